"""What the suite and evaluation pages pass on while a recommendation is being checked: the
recommendation, its volume and the models to compare ("Check this on your prompts" → a sample suite
or a new one → the evaluation), so no step on the way drops them."""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.urls import reverse

from advisor.web.sharing import recommendation_of_user


@dataclass(frozen=True)
class Checking:
    recommendation: object | None  # the user's own Recommendation, or None
    requests_per_day: str
    models: list[str]

    @property
    def query(self) -> str:
        pairs = [("models", slug) for slug in self.models]
        if self.requests_per_day:
            pairs.append(("requests_per_day", self.requests_per_day))
        if self.recommendation is not None:
            pairs.append(("recommendation", str(self.recommendation.pk)))
        return urlencode(pairs)

    def __bool__(self) -> bool:
        return bool(self.query)

    def evaluation_url(self, suite=None) -> str:
        query = ([("suite", str(suite.pk))] if suite is not None else [])
        return f"{reverse('evaluation-new')}?{urlencode(query)}{'&' if query and self.query else ''}{self.query}"


def checking_from(request, suite=None) -> Checking:
    """From the query string; a suite written for a recommendation brings that one back."""
    params = request.GET
    recommendation = recommendation_of_user(request.user, params.get("recommendation"))
    if recommendation is None and suite is not None and suite.recommendation_id and suite.owner_id == request.user.pk:
        recommendation = suite.recommendation
    per_day = params.get("requests_per_day", "")
    if not per_day.isdigit():
        per_day = str(recommendation.answers.get("requests_per_day", "")) if recommendation else ""
    return Checking(recommendation, per_day, [slug for slug in params.getlist("models") if slug][:8])
