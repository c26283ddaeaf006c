"""Monthly cost of each option. A month is 30 days (the CONTRACT)."""

import math

from .types import CostAssumptions, Hardware

DAYS_PER_MONTH = 30
HOURS_PER_MONTH = 24 * DAYS_PER_MONTH
IDLE_POWER_SHARE = 0.2


def hosted_monthly_usd(requests_per_day: float, input_tokens: int, output_tokens: int, input_usd_per_mtok: float, output_usd_per_mtok: float) -> float:
    """The CONTRACT's formula."""
    return requests_per_day * DAYS_PER_MONTH * (input_tokens * input_usd_per_mtok + output_tokens * output_usd_per_mtok) / 1e6


def busy_hours_per_day(requests_per_day: float, input_tokens: int, output_tokens: int, tokens_per_s: float, assumptions: CostAssumptions) -> float:
    seconds_per_request = output_tokens / tokens_per_s + input_tokens / (tokens_per_s * assumptions.prefill_speedup)
    return requests_per_day * seconds_per_request / 3600


def local_monthly_usd(requests_per_day: float, input_tokens: int, output_tokens: int, tokens_per_s: float | None,
                      hardware: Hardware, latency: str, assumptions: CostAssumptions) -> float | None:
    """Own hardware: amortized purchase + energy, with as many machines as the load needs.
    Cloud: GPU hours rented (kept on around the clock unless the work is batch)."""
    if not tokens_per_s:
        return None
    busy = busy_hours_per_day(requests_per_day, input_tokens, output_tokens, tokens_per_s, assumptions)
    machines = max(1, math.ceil(busy / 24))
    if hardware.target == "cloud":
        hours = busy * DAYS_PER_MONTH if latency == "batch" else machines * HOURS_PER_MONTH
        return max(hours, 1) * assumptions.gpu_hour_usd
    target = hardware.target
    amortized = machines * assumptions.hardware_usd[target] / assumptions.amortization_months
    watts = assumptions.watts[target]
    idle_hours = machines * 24 - busy
    kwh = (busy * watts + idle_hours * watts * IDLE_POWER_SHARE) * DAYS_PER_MONTH / 1000
    return amortized + kwh * assumptions.usd_per_kwh
