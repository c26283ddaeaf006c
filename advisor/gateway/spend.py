"""A gateway request's admission and its spend, through the one spend ledger (advisor/runs/ledger.py):
its worst case is reserved when it is admitted and settled at its cost when it ends, so the owner's
daily cap sees gateway requests with trials and evaluations.

On top of the ledger's per-user cap, each API token has its own limits: requests per minute and a
daily budget (which counts local models at their machine time too). Both are checked on the
decision log's rows, inserted in the same transaction as the ledger's reservation, under its
per-user lock: concurrent requests of one token cannot all pass before any of them is counted.
"""

import datetime
import math

from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, FloatField, Sum, When
from django.utils import timezone

from advisor.catalogue.models import LanguageModel
from advisor.runs.ledger import (
    SpendCall, SpendRefused, billable_usd, prompt_tokens_upper_bound, spend_add, spend_reserve as ledger_reserve,
    spend_settle as ledger_settle, worst_case_cost_usd,
)
from advisor.runs.models import SpendKind
from advisor.trials.pricing import machine_usd_per_hour, this_machine

from .models import GatewayRequest

RATE_WINDOW = datetime.timedelta(minutes=1)


class Refused(Exception):
    """429: the message says which limit, `retry_after` (seconds) when it frees up."""

    def __init__(self, message: str, *, retry_after: int, code: str):
        self.retry_after, self.code = retry_after, code
        super().__init__(message)


def worst_case_usd(models: list[LanguageModel], *, prompt: str, max_tokens: int) -> float:
    """The most the calls can cost: every output token at catalogue prices, or for a model on our
    own machines (priced by its time) the whole timeout at the machine's hourly price."""
    total = 0.0
    for model in models:
        if model.input_usd_per_mtok or model.output_usd_per_mtok or model.hosted:
            total += worst_case_cost_usd(model, prompt_tokens_upper_bound(prompt), max_tokens)
        else:
            rate, _ = machine_usd_per_hour(this_machine())
            total += settings.OPENAI_TIMEOUT_S / 3600 * rate
    return total


def _spent_today(token, day_start) -> float:
    # Settled requests at their cost, running ones at their reservation.
    spent = GatewayRequest.objects.filter(api_token=token, created_at__gte=day_start).aggregate(
        total=Sum(Case(When(status=GatewayRequest.Status.RUNNING, then=F("reserved_usd")), default=F("cost_usd"),
                       output_field=FloatField())))["total"]
    return spent or 0.0


def subject_of(row_id) -> str:
    return f"gateway.gatewayrequest:{row_id}"


def spend_reserve(*, owner, token, worst_usd: float, billable_worst: float, **fields) -> GatewayRequest:
    """The request's row, holding `worst_usd` against the token's budget and `billable_worst` (the
    priced models' part) in the ledger; raises Refused."""
    now = timezone.now()
    with transaction.atomic():
        row = GatewayRequest(owner=owner, api_token=token, reserved_usd=worst_usd, **fields)
        try:  # takes the per-user lock first
            ledger_reserve(owner=owner, calls=[SpendCall(kind=SpendKind.GATEWAY, subject=subject_of(row.pk),
                                                         worst_case_usd=billable_worst)])
        except SpendRefused as exc:
            raise Refused(exc.message, retry_after=3600, code="budget_exceeded") from exc
        recent = GatewayRequest.objects.filter(api_token=token, created_at__gt=now - RATE_WINDOW)
        if recent.count() >= settings.GATEWAY_REQUESTS_PER_MINUTE:
            oldest = recent.order_by("created_at").values_list("created_at", flat=True).first()
            wait = math.ceil((oldest + RATE_WINDOW - now).total_seconds())
            raise Refused(f"This API token made {settings.GATEWAY_REQUESTS_PER_MINUTE} requests in the last minute "
                          "(GATEWAY_REQUESTS_PER_MINUTE): try again shortly.", retry_after=max(1, wait), code="rate_limit_exceeded")
        day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
        budget = settings.GATEWAY_DAILY_BUDGET_USD
        spent = _spent_today(token, day_start)
        if spent + worst_usd > budget:
            wait = math.ceil((day_start + datetime.timedelta(days=1) - now).total_seconds())
            raise Refused(f"This API token's daily budget of ${budget:g} (GATEWAY_DAILY_BUDGET_USD) would be exceeded: "
                          f"${spent:.4f} spent or reserved today, and this request may cost up to ${worst_usd:.4f}. "
                          "It resets at midnight UTC.", retry_after=max(1, wait), code="budget_exceeded")
        row.save(force_insert=True)
        return row


def spend_settle(row_id, *, cost_usd: float, billable: float, **fields) -> None:
    """The request ended (answered or not): its cost replaces its reservation."""
    with transaction.atomic():
        GatewayRequest.objects.filter(pk=row_id).update(cost_usd=cost_usd, reserved_usd=0.0, **fields)
        spend_add(subject=subject_of(row_id), kind=SpendKind.GATEWAY, usd=billable)
        ledger_settle(subject=subject_of(row_id))


def spend_add_later(row_id, *, cost_usd: float, billable: float) -> None:
    """A call made after the request settled (a shadow call) joins its spend."""
    with transaction.atomic():
        GatewayRequest.objects.filter(pk=row_id).update(cost_usd=F("cost_usd") + cost_usd)
        spend_add(subject=subject_of(row_id), kind=SpendKind.GATEWAY, usd=billable)


def billable_worst_usd(models: list[LanguageModel], *, prompt: str, max_tokens: int) -> float:
    """The money part of the worst case: the priced models' tokens (the ledger's rule)."""
    return sum(worst_case_cost_usd(model, prompt_tokens_upper_bound(prompt), max_tokens) for model in models
               if billable_usd(model, 1.0))


def billable(answers) -> float:
    return sum(billable_usd(answer.model, answer.cost_usd) for answer in answers)
