"""Lists a page at a time (history, suites, saved answers): what a user has grows without bound."""

from django.core.paginator import Page, Paginator

PAGE_SIZE = 50


def page_of(request, items, *, per_page: int = PAGE_SIZE) -> Page:
    """The page `?page=` asks for (the last for a number past it, the first for anything else).
    `page.query` is the rest of the query string, for the pager's links to keep (a search, say)."""
    page = Paginator(items, per_page).get_page(request.GET.get("page"))
    others = request.GET.copy()
    others.pop("page", None)
    page.query = others.urlencode()
    return page
