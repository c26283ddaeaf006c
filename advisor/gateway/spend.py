"""A gateway request's admission (requests-per-minute and daily budget per API token) and its spend:
reserved at its worst case when admitted, settled at its cost when it ends.

The reservation is the decision log's row itself, inserted under the per-user lock the trial limits
use (advisor/trials/limits.py), so concurrent requests of one token cannot all pass the checks
before any of them is counted.
"""

import datetime
import math

from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, FloatField, Sum, When
from django.utils import timezone

from advisor.catalogue.models import LanguageModel
from advisor.trials.limits import limits_lock, prompt_tokens_upper_bound, worst_case_cost_usd
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


def spend_reserve(*, owner, token, worst_usd: float, **row) -> GatewayRequest:
    """The request's row, holding `worst_usd` against the token's budget; raises Refused."""
    now = timezone.now()
    with transaction.atomic():
        limits_lock(owner)
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
        return GatewayRequest.objects.create(owner=owner, api_token=token, reserved_usd=worst_usd, **row)


def spend_settle(row_id, *, cost_usd: float, **fields) -> None:
    """The request ended (answered or not): its cost replaces its reservation."""
    GatewayRequest.objects.filter(pk=row_id).update(cost_usd=cost_usd, reserved_usd=0.0, **fields)
