from django import template
from django.utils.safestring import mark_safe

from advisor.web.charts import cost_chart_svg

register = template.Library()


@register.simple_tag
def cost_chart(result: dict, requests_per_day=None) -> str:
    # Safe: the SVG is built from numbers and fixed strings only.
    return mark_safe(cost_chart_svg(result.get("cost_curve") or [], result.get("break_even_requests_per_day"), requests_per_day))


WHERE_WORDS = {"own": "on your devices", "rented": "on rented devices", "hosted": "hosted API", "batch_api": "batch API (within 24 h)"}


@register.filter
def where_words(where: str) -> str:
    return WHERE_WORDS.get(where, where)


@register.filter
def requirement_words(requirement: str) -> str:
    from advisor.recommend.feasibility import WORDS

    return WORDS.get(requirement, requirement)


@register.filter
def seconds(value) -> str:
    """1.234 → "1.2 s"; 86,400 → "24 h" (a batch API's window)."""
    if value is None:
        return ""
    return f"{value / 3600:,.0f} h" if value >= 3600 else f"{value:,.1f} s" if value >= 0.1 else f"{value * 1000:,.0f} ms"


@register.filter
def share_percent(value) -> str:
    """0.005 → "0.5 %"."""
    return "" if value is None else f"{value * 100:.1f} %"
