"""Site-wide response rules: every /api/ error is JSON, and dynamic answers are never kept by shared
caches. Each also runs in the async chain (advisor/asgi.py) without a hop to a thread."""

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control
from whitenoise.middleware import WhiteNoiseMiddleware

from .storable_text import text_problem

API_PREFIX = "/api/"
# Headers a replaced error answer keeps: they tell the client what to do next.
KEPT_HEADERS = ("Allow", "WWW-Authenticate", "Retry-After")
REASONS = {
    400: "The request is malformed.",
    401: "Sign in, or send an API token (Authorization: Bearer) or HTTP Basic credentials.",
    403: "Not allowed.",
    404: "No such API endpoint or object.",
    405: "This endpoint does not take that method.",
    413: "The body is too large.",
    429: "Too many requests; try again later.",
}


def _follow_chain(middleware, get_response) -> None:
    """Makes `middleware` async when the handler after it is (Django then awaits it)."""
    middleware.get_response = get_response
    middleware.is_async = iscoroutinefunction(get_response)
    if middleware.is_async:
        markcoroutinefunction(middleware)


class ResponseRule:
    """A middleware that only rewrites the response (`respond`), in the sync chain and in the async
    one (advisor/asgi.py's async paths) alike: an async request never hops to a thread for it."""

    sync_capable = async_capable = True

    def __init__(self, get_response):
        _follow_chain(self, get_response)

    def __call__(self, request):
        if self.is_async:
            return self._acall(request)
        return self.respond(request, self.get_response(request))

    async def _acall(self, request):
        return self.respond(request, await self.get_response(request))


class StaticFiles(WhiteNoiseMiddleware):
    """WhiteNoise on the site's (sync) requests. The async paths (/v1/…, …/events) never name a
    static file, so there it passes the request on rather than make Django run it in a thread."""

    async_capable = True

    def __init__(self, get_response):
        super().__init__(get_response)
        _follow_chain(self, get_response)

    def __call__(self, request):
        return self.get_response(request) if self.is_async else super().__call__(request)


class ApiErrorsAsJson(ResponseRule):
    """An /api/ client always gets JSON, also for the errors Django answers itself (unknown URL,
    wrong method, CSRF failure, an unexpected exception): `{"errors": {"request": ["..."]}}`."""

    def respond(self, request, response):
        if not request.path.startswith(API_PREFIX) or response.status_code < 400:
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        reason = REASONS.get(response.status_code, "The server failed to answer; the error is logged." if response.status_code >= 500 else "The request was refused.")
        replaced = JsonResponse({"errors": {"request": [reason]}}, status=response.status_code)
        for header in KEPT_HEADERS:
            if header in response:
                replaced[header] = response[header]
        return replaced


class QueryTextChecked:
    """A query parameter with a NUL character is a 400 naming it: views filter on parameters, and
    PostgreSQL refuses a NUL in a query (a 500). Form fields refuse it themselves."""

    sync_capable = async_capable = True

    def __init__(self, get_response):
        _follow_chain(self, get_response)

    def __call__(self, request):
        if self.is_async:
            return self._acall(request)
        return self.refusal(request) or self.get_response(request)

    async def _acall(self, request):
        return self.refusal(request) or await self.get_response(request)

    @staticmethod
    def refusal(request) -> HttpResponse | None:
        for name, values in request.GET.lists():
            if problem := next(filter(None, map(text_problem, (name, *values))), None):
                field = name if not text_problem(name) else "query"
                if request.path.startswith(API_PREFIX):
                    return JsonResponse({"errors": {field: [problem]}}, status=400)
                return HttpResponse(f"{field}: {problem}", status=400, content_type="text/plain; charset=utf-8")
        return None


class PrivateCacheControl(ResponseRule):
    """`Cache-Control: private, no-store` on every page, export and API answer (static files are served
    before this): they show a user's trials, votes, evaluations and name; a shared proxy must never hand
    them to someone else, and no cache (a shared computer's browser included) may keep a copy on disk."""

    def respond(self, request, response):
        patch_cache_control(response, private=True, no_store=True)
        return response


def lockout_response(request, original_response=None, credentials=None) -> HttpResponse:
    """What django-axes answers once sign-ins from a user name and address have failed too often."""
    message = "Too many failed sign-ins: wait a few minutes, then try again."
    if request.path.startswith(API_PREFIX):
        response = JsonResponse({"errors": {"auth": [message]}}, status=429)
    else:
        response = render(request, "registration/locked_out.html", {"message": message}, status=429)
    from django.conf import settings

    response["Retry-After"] = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    return response
