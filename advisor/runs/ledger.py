"""The one spend ledger: every model call any part of the product makes — a trial run, a hybrid
column's escalation to its large model, an evaluation's runs and judge calls, a gateway request —
reserves its worst case here before it starts and settles to what it really cost when it ends, so
the per-user daily cap and the in-flight limits see every kind of call together.

The rules:

- A start reserves under the per-user lock (a row lock on the user on PostgreSQL; SQLite's IMMEDIATE
  transactions hold the write lock), reads what is spent and in flight with SQL aggregates (no rows
  are loaded into Python), and inserts its reservations, in the caller's transaction: concurrent
  starts cannot all pass, and a refused start (SpendRefused) rolls back with everything it created.
- An open reservation counts at the larger of its worst case and what it has spent so far; a
  settled one at what it spent. The daily cap (TRIAL_DAILY_SPEND_CAP_USD) covers the last 24 hours.
- A user's open calls on one API model (a server's, not a local one) are capped by
  TRIAL_MAX_RUNS_IN_FLIGHT_PER_MODEL, the provider's rate limit, counting every kind of call that names
  that model: trial runs, hybrid escalations, judge calls. (An evaluation reserves one row for all its
  runs; EVAL_MAX_CONCURRENCY_PER_MODEL paces those.)
- Only priced calls spend (`billable_usd`): a local model's machine time is a cost estimate, not money.
- The worst case holds because the runners' output is capped whatever the server does
  (`output_bytes_cap`, advisor/trials/execution.py) and costs are computed from what was received
  (`received_tokens`), never from what a server claims beyond it.

Functions (plain, synchronous; from an async view call them through `sync_to_async`):

    with transaction.atomic():
        [reservation] = spend_reserve(owner=user, calls=[SpendCall(
            kind=SpendKind.GATEWAY, subject=f"gateway.request:{request_id}", model=model,
            worst_case_usd=worst_case_cost_usd(model, prompt_tokens_upper_bound(system, prompt), max_tokens))])
        ...  # insert the caller's own rows here, under the same lock
    ...  # the call
    spend_add(subject=reservation.subject, kind=SpendKind.GATEWAY, usd=billable_usd(model, cost))
    spend_settle(subject=reservation.subject)

- `spend_reserve(*, owner, calls)`: check and insert, or raise SpendRefused (`limit` is "in_flight" or
  "daily_cap", `message` says what to do). Call it inside the transaction that creates the calls' rows.
- `spend_add(*, subject, kind, usd)`: add a finished call's real cost (open or settled reservation).
- `spend_settle(*, subject)`: close the subject's open reservations; from now on only their spend counts.
- `spend_settle_at_worst_case(*, subject)`: close them at their worst case (a call whose worker died).
- `spend_today_usd(owner)`, `calls_in_flight(owner, kind)`, `calls_in_flight_on_model(owner, model_slug)`: the figures the checks use.
- `subject_of(row)`: the subject key of a database row.
"""

import collections
import datetime
from dataclasses import dataclass
from typing import Sequence

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Case, F, FloatField, Sum, When
from django.db.models.functions import Greatest
from django.utils import timezone

from advisor.catalogue.models import LanguageModel

from .models import SpendKind, SpendReservation
from .registry import queue_for

# Chat templates add a few tokens around each message.
TEMPLATE_TOKENS = 32
WINDOW = datetime.timedelta(days=1)

# Kinds limited in how many may be open at once per user, with the setting that says how many and the
# words of the refusal. Escalations and judge calls belong to a run or an evaluation already counted.
IN_FLIGHT_LIMITS = {
    SpendKind.TRIAL_RUN: ("TRIAL_MAX_RUNS_IN_FLIGHT_PER_USER",
                          "You have {going} runs still going and asked for {asked} more; at most {limit} may run at once. Wait for them to finish."),
    SpendKind.EVALUATION: ("EVAL_MAX_IN_FLIGHT_PER_USER",
                           "You have {going} evaluations still running; at most {limit} may run at once. Wait for one to finish or cancel it."),
}


class SpendRefused(Exception):
    """A start that would break a limit; nothing was reserved. `limit`: "in_flight" or "daily_cap"."""

    def __init__(self, limit: str, message: str):
        self.limit = limit
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class SpendCall:
    kind: str  # SpendKind
    subject: str
    worst_case_usd: float
    model_slug: str = ""


def prompt_tokens_upper_bound(*texts: str) -> int:
    """No byte-level tokenizer yields more tokens than the text has UTF-8 bytes; plus the chat template."""
    return sum(len(text.encode("utf-8", "surrogatepass")) for text in texts) + TEMPLATE_TOKENS


def is_priced(model) -> bool:
    return bool(model and (model.input_usd_per_mtok or model.output_usd_per_mtok))


def worst_case_cost_usd(model, prompt_tokens: int, max_tokens: int) -> float:
    """What a call can cost at most at the model's catalogue prices (every output token used)."""
    return (prompt_tokens * model.input_usd_per_mtok + max_tokens * model.output_usd_per_mtok) / 1e6


def billable_usd(model, cost_usd: float | None) -> float:
    """The money a finished call spent: its cost on a priced model, nothing on a free one."""
    return float(cost_usd or 0.0) if is_priced(model) else 0.0


def output_bytes_cap(max_tokens: int) -> int:
    """The most output a call may receive, whatever the server sends (RUN_OUTPUT_BYTES_PER_TOKEN a token)."""
    return max(1, max_tokens) * settings.RUN_OUTPUT_BYTES_PER_TOKEN


def received_tokens(reported: int | None, *, at_most: int) -> int | None:
    """A server's token count, never above what the call could have used (its cost stays under the reservation)."""
    return None if reported is None else min(reported, at_most)


def subject_of(row) -> str:
    return f"{row._meta.label_lower}:{row.pk}"


def _lock(owner) -> None:
    """Serialise this user's starts until the caller's transaction ends."""
    get_user_model().objects.select_for_update().filter(pk=owner.pk).values_list("pk", flat=True).first()


def _recent(owner):
    return SpendReservation.objects.filter(owner_id=owner.pk, created_at__gte=timezone.now() - WINDOW)


def spend_today_usd(owner) -> float:
    """Spent or reserved in the last 24 hours, every kind of call together."""
    counted = Case(When(settled_at__isnull=True, then=Greatest("reserved_usd", "spent_usd")), default=F("spent_usd"),
                   output_field=FloatField())
    return _recent(owner).aggregate(total=Sum(counted))["total"] or 0.0


def calls_in_flight(owner, kind: str) -> int:
    return _recent(owner).filter(kind=kind, settled_at__isnull=True).count()


def calls_in_flight_on_model(owner, model_slug: str) -> int:
    return _recent(owner).filter(model_slug=model_slug, settled_at__isnull=True).count()


def _check_model_limits(owner, calls: Sequence[SpendCall]) -> None:
    asked = collections.Counter(call.model_slug for call in calls if call.model_slug)
    if not asked:
        return
    limit = settings.TRIAL_MAX_RUNS_IN_FLIGHT_PER_MODEL
    # Evaluations' rows name several models ("a,b"): no catalogue slug matches them.
    for model in LanguageModel.objects.filter(slug__in=asked).select_related("provider"):
        if queue_for(model) != "api":
            continue
        going = calls_in_flight_on_model(owner, model.slug)
        if going + asked[model.slug] > limit:
            raise SpendRefused("in_flight", (
                f"You have {going} calls still going on {model.name} and asked for {asked[model.slug]} more; at most {limit} "
                f"may run at once on one API model (its provider's rate limit, TRIAL_MAX_RUNS_IN_FLIGHT_PER_MODEL). "
                f"Wait for them to finish or pick another model."))


def _check_limits(owner, calls: Sequence[SpendCall]) -> None:
    _check_model_limits(owner, calls)
    for kind, (setting, words) in IN_FLIGHT_LIMITS.items():
        asked = sum(1 for call in calls if call.kind == kind)
        if not asked:
            continue
        going, limit = calls_in_flight(owner, kind), getattr(settings, setting)
        if going + asked > limit:
            raise SpendRefused("in_flight", words.format(going=going, asked=asked, limit=limit))
    asked_usd = sum(call.worst_case_usd for call in calls)
    if asked_usd > 0:
        spent, cap = spend_today_usd(owner), settings.TRIAL_DAILY_SPEND_CAP_USD
        if spent + asked_usd > cap:
            raise SpendRefused("daily_cap", (
                f"Priced models: ${spent:.2f} spent or reserved in the last 24 hours (trials, evaluations, judge calls "
                f"and hybrid escalations together; what is still going counts at its worst case) plus up to ${asked_usd:.2f} "
                f"for this would pass the daily cap of ${cap:.2f}. Lower max tokens, use free local models, or wait."))


def spend_reserve(*, owner, calls: Sequence[SpendCall]) -> list[SpendReservation]:
    """Reserve `calls` for `owner` or raise SpendRefused. Inside the caller's transaction (it takes the
    per-user lock, held until that transaction ends)."""
    with transaction.atomic():
        _lock(owner)
        _check_limits(owner, calls)
        now = timezone.now()
        return SpendReservation.objects.bulk_create([
            SpendReservation(owner_id=owner.pk, kind=call.kind, subject=call.subject, model_slug=call.model_slug,
                             reserved_usd=call.worst_case_usd, created_at=now)
            for call in calls
        ])


def spend_reserve_again(*, owner, calls: Sequence[SpendCall]) -> None:
    """Reserve more for subjects that already have their reservation (an evaluation's failed runs
    retried), under the same limits, or raise SpendRefused. A reservation of the last 24 hours is
    reopened with the new worst case on top of what it spent, so spend_add still finds one row per
    subject and kind; an older one is out of today's sums, so it starts again from today (its old
    spend stays out of them)."""
    with transaction.atomic():
        _lock(owner)
        _check_limits(owner, calls)
        for call in calls:
            reopened = _recent(owner).filter(subject=call.subject, kind=call.kind).update(
                reserved_usd=F("spent_usd") + call.worst_case_usd, settled_at=None)
            if not reopened and not SpendReservation.objects.filter(subject=call.subject, kind=call.kind).update(
                    created_at=timezone.now(), reserved_usd=call.worst_case_usd, spent_usd=0.0, settled_at=None):
                SpendReservation.objects.create(owner_id=owner.pk, kind=call.kind, subject=call.subject, model_slug=call.model_slug,
                                                reserved_usd=call.worst_case_usd, created_at=timezone.now())


def spend_add(*, subject: str, kind: str, usd: float) -> None:
    """Count a finished call's real cost (a settled reservation too: a run that ends after its
    evaluation was cancelled still spent it)."""
    if usd:
        SpendReservation.objects.filter(subject=subject, kind=kind).update(spent_usd=F("spent_usd") + usd)


def spend_settle_at_worst_case(*, subject: str) -> int:
    """Close the subject's open reservations at their worst case: calls whose cost cannot be known
    (their worker died mid-call, after the request may have reached the provider)."""
    return SpendReservation.objects.filter(subject=subject, settled_at__isnull=True).update(
        spent_usd=Greatest("reserved_usd", "spent_usd"), settled_at=timezone.now())


def spend_settle(*, subject: str) -> int:
    """Close the subject's open reservations: from now on they count at what they spent."""
    return SpendReservation.objects.filter(subject=subject, settled_at__isnull=True).update(settled_at=timezone.now())
