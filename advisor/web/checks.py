"""A saved recommendation and the trials that checked it, both ways; measured costs at its volume."""

from dataclasses import dataclass

from django.db.models import Prefetch

from advisor.trials.models import Trial
from advisor.trials.pricing import cost_per_1k_requests, is_machine_priced, monthly_busy_and_idle, monthly_usd

from .models import Recommendation
from .trial_choices import recommendation_for_trial


def recommendations_of(user):
    """The user's own saved recommendations, newest first, each with the trials of theirs that checked it."""
    own_trials = Trial.objects.filter(owner=user).prefetch_related("runs", "votes")
    return Recommendation.objects.filter(created_by=user).prefetch_related(Prefetch("trials", queryset=own_trials, to_attr="own_trials"))


def recommendation_trials(recommendation: Recommendation, user) -> list[Trial]:
    """The trials that checked this recommendation that this user may see: their own (trials are private)."""
    if not user.is_authenticated:
        return []
    return list(recommendation.trials.filter(owner=user).prefetch_related("runs"))


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


def compare_recommendation(params) -> Recommendation | None:
    """The recommendation whose volume a comparison is scaled to (`?rec=<id>`)."""
    return recommendation_for_trial(params.get("rec"))
