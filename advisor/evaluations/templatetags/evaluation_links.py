from urllib.parse import urlencode

from django import template
from django.urls import reverse

register = template.Library()


@register.simple_tag
def check_on_prompts_url(try_models, answers, saved=None) -> str:
    """The new-evaluation page for the recommendation's top SLM and LLM at its volume ("check this on your prompts")."""
    query = [("models", slug) for slug in try_models or []]
    if answers and answers.get("requests_per_day") is not None:
        query.append(("requests_per_day", answers["requests_per_day"]))
    if getattr(saved, "id", None):  # the advisor's live preview has no saved recommendation yet
        query.append(("recommendation", str(saved.id)))
    return f"{reverse('evaluation-new')}?{urlencode(query)}"
