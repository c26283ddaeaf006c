from django import template
from django.utils.safestring import mark_safe

from advisor.web.charts import cost_chart_svg

register = template.Library()


@register.simple_tag
def cost_chart(result: dict, requests_per_day=None) -> str:
    # Safe: the SVG is built from numbers and fixed strings only.
    return mark_safe(cost_chart_svg(result.get("cost_curve") or [], result.get("break_even_requests_per_day"), requests_per_day))
