"""A run's max tokens when none is given: one default for trials and evaluations, pages and API."""

from django.conf import settings

DEFAULT_MAX_TOKENS = 256


def max_tokens_default(recommendation=None) -> int:
    """The reply length the recommendation was asked for (its answers' output_tokens, within
    TRIAL_MAX_TOKENS) when the run checks one, so a 200-token answer is tried at 200 tokens;
    DEFAULT_MAX_TOKENS otherwise."""
    asked = (getattr(recommendation, "answers", None) or {}).get("output_tokens")
    if isinstance(asked, (int, float)) and not isinstance(asked, bool) and asked >= 1:
        return min(int(asked), settings.TRIAL_MAX_TOKENS)
    return DEFAULT_MAX_TOKENS
