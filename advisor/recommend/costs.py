"""Monthly cost of each option. A month is 30 days (the CONTRACT)."""

import math

from .types import CostAssumptions, Hardware

DAYS_PER_MONTH = 30
HOURS_PER_MONTH = 24 * DAYS_PER_MONTH
# A cloud machine is billed for at least an hour a month, however little it works.
MIN_CLOUD_HOURS = 1

FORMULAS = {
    "hosted": "requests/day × 30 × (input tokens × input price + output tokens × output price) ÷ 1,000,000",
    "local": "machines × hardware price ÷ amortization months + energy (watts × busy hours, idle share the rest) × price per kWh",
    "cloud": "GPU hours rented × price per hour (around the clock unless the work is batch)",
    "hybrid": "SLM cost at your full volume + LLM cost for its share of the requests",
}


def hosted_monthly_usd(requests_per_day: float, input_tokens: int, output_tokens: int, input_usd_per_mtok: float, output_usd_per_mtok: float) -> float:
    """The CONTRACT's formula."""
    return requests_per_day * DAYS_PER_MONTH * (input_tokens * input_usd_per_mtok + output_tokens * output_usd_per_mtok) / 1e6


def busy_hours_per_day(requests_per_day: float, input_tokens: int, output_tokens: int, tokens_per_s: float, assumptions: CostAssumptions) -> float:
    """Machine-hours of work a day at `tokens_per_s` (one machine's throughput)."""
    seconds_per_request = output_tokens / tokens_per_s + input_tokens / (tokens_per_s * assumptions.prefill_speedup)
    return requests_per_day * seconds_per_request / 3600


def machines_needed(busy_hours: float) -> int:
    return max(1, math.ceil(busy_hours / 24))


def local_monthly_usd(requests_per_day: float, input_tokens: int, output_tokens: int, tokens_per_s: float | None,
                      hardware: Hardware, latency: str, assumptions: CostAssumptions) -> float | None:
    """Own hardware: amortized purchase + energy, with as many machines as the load needs.
    Cloud: GPU hours rented (kept on around the clock unless the work is batch)."""
    if not tokens_per_s:
        return None
    busy = busy_hours_per_day(requests_per_day, input_tokens, output_tokens, tokens_per_s, assumptions)
    machines = machines_needed(busy)
    if hardware.target == "cloud":
        # Batch work can start machines when there is work and stop them after; anything a user
        # waits on needs them running.
        hours = busy * DAYS_PER_MONTH if latency == "batch" else machines * HOURS_PER_MONTH
        return max(hours, MIN_CLOUD_HOURS) * assumptions.gpu_hour_usd
    machine = assumptions.machine(hardware)
    amortized = machines * assumptions.hardware_usd[machine] / assumptions.amortization_months
    watts = assumptions.watts[machine]
    idle_hours = machines * 24 - busy
    kwh = (busy * watts + idle_hours * watts * assumptions.idle_power_share) * DAYS_PER_MONTH / 1000
    return amortized + kwh * assumptions.usd_per_kwh


def local_cost_basis(hardware: Hardware, assumptions: CostAssumptions) -> str:
    """The local-cost formula with the figures it uses for this hardware, to show with the answer."""
    if hardware.target == "cloud":
        text = f"Local cost = GPU hours rented at ${assumptions.gpu_hour_usd:g} an hour (around the clock unless the work is batch)."
    else:
        machine = assumptions.machine(hardware)
        which = hardware.target if machine == hardware.target else f"{hardware.target} without a GPU"
        text = (f"Local cost = machines × ${assumptions.hardware_usd[machine]:,.0f} ({which}) ÷ {assumptions.amortization_months} months"
                f" + energy at {assumptions.watts[machine]:,.0f} W while generating and ${assumptions.usd_per_kwh:g}/kWh.")
    if hardware.gpu_vram_gb > 0:
        text += f" A GPU serves up to {assumptions.max_parallel_requests} requests at once."
    return text


def hybrid_monthly_usd(slm_usd: float | None, llm_usd_for_its_share: float | None) -> float | None:
    """The SLM side is costed at full volume (in a cascade it sees every request first); the LLM side
    at its share of the volume, which for a hosted model is exactly share × its full-volume cost."""
    if slm_usd is None or llm_usd_for_its_share is None:
        return None
    return slm_usd + llm_usd_for_its_share
