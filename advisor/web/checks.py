"""A saved recommendation and the trials that checked it, both ways; measured costs at its volume."""

from dataclasses import dataclass

from django.db.models import Prefetch

from advisor.trials.models import Trial
from advisor.trials.pricing import cost_per_1k_requests, is_machine_priced, monthly_busy_and_idle, monthly_usd

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
    busy_and_idle_usd: float | None = None  # a local model's month as the advisor prices it (machines all month)
    busy_and_idle_basis: str = ""


def _estimates(recommendation: Recommendation) -> dict[str, float | None]:
    return {c["slug"]: c.get("monthly_cost_usd") for option in recommendation.result.get("candidates", {}).values() for c in option}


def costs_at_volume(recommendation: Recommendation | None, runs_by_model: dict[str, tuple[str, list]]) -> list[CostAtVolume]:
    """Measured cost per request, scaled to the recommendation's requests per day, and for a local
    model its month as the advisor prices it; `runs_by_model` maps a slug to (name, [run, ...])."""
    if recommendation is None:
        return []
    per_day = recommendation.answers.get("requests_per_day")
    estimates = _estimates(recommendation)
    rows = []
    for slug, (name, runs) in runs_by_model.items():
        costs = [run.cost_usd for run in runs]
        per_1k = cost_per_1k_requests(costs)
        busy = [run.total_ms / 1000 for run in runs if run.total_ms is not None and run.cost_usd is not None]
        local = busy and runs[0].model is not None and is_machine_priced(runs[0].model)
        busy_and_idle = (monthly_busy_and_idle(seconds_per_request=sum(busy) / len(busy), requests_per_day=per_day, recommendation=recommendation)
                         if local else (None, ""))
        rows.append(CostAtVolume(slug, name, sum(c is not None for c in costs), per_1k, monthly_usd(per_1k, per_day), estimates.get(slug),
                                 *busy_and_idle))
    return rows


def trial_costs_at_volume(trial: Trial) -> list[CostAtVolume]:
    if trial.recommendation_id is None:
        return []
    runs = {}
    for run in trial.runs.select_related("model__provider"):
        runs.setdefault(run.model_slug, (run.model_name, []))[1].append(run)
    return costs_at_volume(trial.recommendation, runs)


def compare_recommendation(params, user) -> Recommendation | None:
    """The user's recommendation whose volume a comparison is scaled to (`?rec=<id>`)."""
    return recommendation_of_user(user, params.get("rec"))
