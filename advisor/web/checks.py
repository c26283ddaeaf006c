"""A saved recommendation and the trials that checked it, both ways; measured costs at its volume."""

from dataclasses import dataclass

from django.db.models import Prefetch

from advisor.trials.models import Trial
from advisor.trials.pricing import cost_per_1k_requests, monthly_usd

from .models import Recommendation
from .sharing import recommendation_of_user


def recommendations_of(user):
    """The user's own saved recommendations, newest first, each with the trials, evaluations and
    policies of theirs started from it."""
    from advisor.evaluations.models import Evaluation
    from advisor.hybrid.models import HybridPolicy

    own_trials = Trial.objects.filter(owner=user).prefetch_related("runs", "votes")
    return Recommendation.objects.filter(created_by=user).prefetch_related(
        Prefetch("trials", queryset=own_trials, to_attr="own_trials"),
        Prefetch("evaluations", queryset=Evaluation.objects.filter(owner=user).select_related("suite"), to_attr="own_evaluations"),
        Prefetch("hybrid_policies", queryset=HybridPolicy.objects.filter(owner=user).select_related("slm", "llm"), to_attr="own_policies"),
    )


@dataclass(frozen=True)
class CostAtVolume:
    slug: str
    name: str
    runs: int  # priced runs the figure is over
    cost_per_1k_usd: float | None
    monthly_usd: float | None
    estimate_monthly_usd: float | None  # the recommendation's own estimate for this model, if it was a candidate


def _estimates(recommendation: Recommendation) -> dict[str, float | None]:
    return {c["slug"]: c.get("monthly_cost_usd") for option in recommendation.result.get("candidates", {}).values() for c in option}


def costs_at_volume(recommendation: Recommendation | None, runs_by_model: dict[str, tuple[str, list]]) -> list[CostAtVolume]:
    """Measured cost per request, scaled to the recommendation's requests per day; `runs_by_model`
    maps a slug to (name, [cost_usd, ...])."""
    if recommendation is None:
        return []
    per_day = recommendation.answers.get("requests_per_day")
    estimates = _estimates(recommendation)
    rows = []
    for slug, (name, costs) in runs_by_model.items():
        per_1k = cost_per_1k_requests(costs)
        rows.append(CostAtVolume(slug, name, sum(c is not None for c in costs), per_1k, monthly_usd(per_1k, per_day), estimates.get(slug)))
    return rows


def trial_costs_at_volume(trial: Trial) -> list[CostAtVolume]:
    if trial.recommendation_id is None:
        return []
    runs = {}
    for run in trial.runs.all():
        runs.setdefault(run.model_slug, (run.model_name, []))[1].append(run.cost_usd)
    return costs_at_volume(trial.recommendation, runs)


def compare_recommendation(params, user) -> Recommendation | None:
    """The user's recommendation whose volume a comparison is scaled to (`?rec=<id>`)."""
    return recommendation_of_user(user, params.get("rec"))
