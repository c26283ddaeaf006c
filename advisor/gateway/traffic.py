"""A policy's live traffic from its decision log: requests, escalation rate against the share it was
calibrated to send with its interval, cost against the large model alone, latency and errors by hour."""

from dataclasses import dataclass

from django.db.models.functions import TruncHour

from advisor.evaluations.stats import percentile, wilson_interval
from advisor.hybrid.models import HybridPolicy

from .models import GatewayRequest

RECENT_ROWS = 50
# Fewer answered requests than this say too little for an alert about the escalation rate.
ALERT_MIN_REQUESTS = 20


@dataclass(frozen=True)
class Hour:
    start: object
    requests: int
    errors: int
    escalated: int
    p50_ms: float | None
    p95_ms: float | None


def calibrated_share(policy: HybridPolicy) -> dict | None:
    """The share of requests the calibration sent to the LLM on its held-out items, with a 95 % Wilson
    interval over those items; None for a threshold set by hand."""
    held_out = (policy.figures or {}).get("held_out") or {}
    items, share = held_out.get("items"), held_out.get("llm_share")
    if not items or share is None:
        return None
    escalated = round(share * items)
    low, high = wilson_interval(escalated, items)
    return {"share": share, "low": low, "high": high, "items": items}


def policy_traffic(*, owner, family) -> dict | None:
    versions = list(HybridPolicy.objects.filter(owner=owner, family=family).select_related("slm", "llm").order_by("-version"))
    if not versions:
        return None
    policy = versions[0]
    rows = GatewayRequest.objects.filter(owner=owner, policy_family=family)
    done = [row for row in rows.filter(status=GatewayRequest.Status.DONE).only(
        "escalated", "cost_usd", "llm_only_cost_usd", "total_ms", "draft_ms", "policy_id")]
    errors = rows.filter(status=GatewayRequest.Status.FAILED).count()
    escalated = sum(1 for row in done if row.escalated)
    live = None
    if done:
        low, high = wilson_interval(escalated, len(done))
        live = {"share": escalated / len(done), "low": low, "high": high, "requests": len(done)}
    calibrated = calibrated_share(policy)
    alert = None
    if calibrated and live and live["requests"] >= ALERT_MIN_REQUESTS and not calibrated["low"] <= live["share"] <= calibrated["high"]:
        alert = (f"The live escalation rate ({live['share']:.0%} of {live['requests']} requests) is outside the calibrated "
                 f"interval ({calibrated['low']:.0%}–{calibrated['high']:.0%}): the traffic differs from the prompts the "
                 "policy was calibrated on. Turn on shadow sampling and recalibrate on live votes.")
    llm_costs = [row.llm_only_cost_usd for row in done if row.llm_only_cost_usd is not None]
    cost = sum(row.cost_usd for row in done)
    llm_only = sum(llm_costs) / len(llm_costs) * len(done) if llm_costs else None
    return {
        "policy": policy, "versions": versions, "requests": len(done) + errors, "answered": len(done), "errors": errors,
        "escalated": escalated, "live": live, "calibrated": calibrated, "alert": alert,
        "cost_usd": cost, "llm_only_usd": llm_only, "llm_cost_samples": len(llm_costs),
        "p50_ms": percentile([row.total_ms for row in done if row.total_ms is not None], 0.5),
        "p95_ms": percentile([row.total_ms for row in done if row.total_ms is not None], 0.95),
        "hours": _hours(rows), "recent": list(rows.select_related("policy")[:RECENT_ROWS]),
    }


def _hours(rows) -> list[Hour]:
    by_hour: dict = {}
    for row in rows.annotate(hour=TruncHour("created_at")).values("hour", "status", "escalated", "total_ms"):
        by_hour.setdefault(row["hour"], []).append(row)
    hours = []
    for start in sorted(by_hour, reverse=True)[:48]:
        bucket = by_hour[start]
        times = [r["total_ms"] for r in bucket if r["status"] == GatewayRequest.Status.DONE and r["total_ms"] is not None]
        hours.append(Hour(start=start, requests=len(bucket), errors=sum(r["status"] == GatewayRequest.Status.FAILED for r in bucket),
                          escalated=sum(bool(r["escalated"]) for r in bucket),
                          p50_ms=percentile(times, 0.5), p95_ms=percentile(times, 0.95)))
    return hours
