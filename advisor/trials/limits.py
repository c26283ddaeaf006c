"""Per-user limits on runs: how many may be in flight, and how much priced models may cost a day.

`limits_check` must run inside the transaction that inserts the planned runs, after
`limits_lock`: the lock serialises one user's starts, so concurrent requests cannot all pass the
check before any of them has inserted its runs. Runs still queued or running count at their
worst-case cost, so five concurrent $6 runs cannot all start against a $5 cap.
"""

import datetime
from collections import Counter
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, Q
from django.utils import timezone

from advisor.catalogue.models import LanguageModel, Provider

from .models import FINISHED, Status, TrialRun


class LimitExceeded(Exception):
    """`errors` maps a field to messages, like TrialRejected; the status is 429."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__(errors)


@dataclass(frozen=True)
class PlannedRun:
    model: LanguageModel
    prompt_tokens: int
    max_tokens: int


def prompt_tokens_upper_bound(*texts: str) -> int:
    # No tokenizer here yields more tokens than the text has bytes: a bound, not an estimate.
    return sum(len(text.encode("utf-8")) for text in texts)


def is_priced(model: LanguageModel | None) -> bool:
    return bool(model and (model.input_usd_per_mtok or model.output_usd_per_mtok))


def worst_case_cost_usd(model: LanguageModel, prompt_tokens: int, max_tokens: int) -> float:
    """What a run can cost at most at the model's catalogue prices (every output token used)."""
    return (prompt_tokens * model.input_usd_per_mtok + max_tokens * model.output_usd_per_mtok) / 1e6


def limits_lock(owner) -> None:
    """Serialise this user's starts until the caller's transaction ends: a row lock on the user
    (PostgreSQL); SQLite's IMMEDIATE transactions (settings) already hold the write lock."""
    get_user_model().objects.select_for_update().filter(pk=owner.pk).first()


def spent_today_usd(owner) -> float:
    """Priced runs of the last 24 hours: finished ones at their cost, unfinished ones (or ones whose
    cost is unknown) at their worst case."""
    since = timezone.now() - datetime.timedelta(days=1)
    runs = (TrialRun.objects.filter(trial__owner=owner, queued_at__gte=since)
            .filter(Q(model__input_usd_per_mtok__gt=0) | Q(model__output_usd_per_mtok__gt=0))
            .select_related("model", "trial"))
    total = 0.0
    for run in runs:
        if run.status in FINISHED and run.cost_usd is not None:
            total += run.cost_usd
        else:
            trial = run.trial
            total += worst_case_cost_usd(run.model, prompt_tokens_upper_bound(trial.system, trial.prompt), trial.max_tokens)
    return total


def _in_flight_check(owner, planned: list[PlannedRun]) -> None:
    """A user's runs going at once, in all and on local models (which share a worker's few core
    slots), and each API model's runs going at once across all users (its provider's rate limit).
    The defaults match scripts/run's worker pools (README, "Placing the queues")."""
    going = Q(status__in=[Status.QUEUED, Status.RUNNING])
    local = Q(model__provider__kind=Provider.Kind.TRANSFORMERS)
    counts = TrialRun.objects.filter(going, trial__owner=owner).aggregate(all=Count("pk"), local=Count("pk", filter=local))
    planned_local = sum(p.model.provider.kind == Provider.Kind.TRANSFORMERS for p in planned)
    for count, asked, cap, what in ((counts["all"], len(planned), settings.TRIAL_MAX_RUNS_IN_FLIGHT_PER_USER, "runs"),
                                    (counts["local"], planned_local, settings.TRIAL_MAX_LOCAL_RUNS_IN_FLIGHT_PER_USER, "local-model runs")):
        if asked and count + asked > cap:
            raise LimitExceeded({"models": [
                f"You have {count} {what} still going and asked for {asked} more; at most {cap} may run at once. Wait for them to finish."
            ]})
    per_model = Counter(p.model.slug for p in planned if p.model.provider.kind != Provider.Kind.TRANSFORMERS)
    if not per_model:
        return
    going_per_model = dict(TrialRun.objects.filter(going, model_slug__in=per_model).values("model_slug")
                           .annotate(count=Count("pk")).values_list("model_slug", "count"))
    cap = settings.TRIAL_MAX_RUNS_IN_FLIGHT_PER_MODEL
    for slug, asked in per_model.items():
        if going_per_model.get(slug, 0) + asked > cap:
            raise LimitExceeded({"models": [
                f"{slug} already has {going_per_model.get(slug, 0)} runs going for all users, its most at once ({cap}). Try again in a minute."
            ]})


def limits_check(*, owner, planned: list[PlannedRun]) -> None:
    """Raise LimitExceeded if starting `planned` breaks a limit. Call inside the transaction that
    inserts them (it takes the per-user lock itself)."""
    limits_lock(owner)
    _in_flight_check(owner, planned)
    priced = [p for p in planned if is_priced(p.model)]
    if not priced:
        return
    cap = settings.TRIAL_DAILY_SPEND_CAP_USD
    spent = spent_today_usd(owner)
    asked = sum(worst_case_cost_usd(p.model, p.prompt_tokens, p.max_tokens) for p in priced)
    if spent + asked > cap:
        raise LimitExceeded({"models": [
            f"Priced models: ${spent:.2f} spent or reserved in the last 24 hours (runs still going count at their "
            f"worst case) plus up to ${asked:.2f} for this would pass the daily cap of ${cap:.2f}. "
            "Lower max tokens, use free local models, or wait."
        ]})
