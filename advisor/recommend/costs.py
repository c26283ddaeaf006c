"""Monthly cost of each option. A month is 30 days (the CONTRACT)."""

import functools
import math

from .memory import gpu_count
from .types import CostAssumptions, Hardware

DAYS_PER_MONTH = 30
HOURS_PER_MONTH = 24 * DAYS_PER_MONTH
# A cloud machine is billed for at least an hour a month, however little it works.
MIN_CLOUD_HOURS = 1

FORMULAS = {
    "hosted": "requests/day × 30 × (input tokens × input price + billed output tokens × output price) ÷ 1,000,000; billed output = output tokens + the model's hidden reasoning tokens; × (1 − batch discount) for batch work where the provider offers one",
    "local": "machines × hardware price ÷ amortization months + energy (watts × busy hours, idle share the rest) × price per kWh; machines = ceil(busy hours ÷ 24); a machine's price and power scale with its GPUs",
    "cloud": "GPUs rented × hours × price per GPU-hour (around the clock unless the work is batch)",
    "hybrid": "SLM cost at your full volume + the tail model's cost for its share of the requests",
}


def hosted_monthly_usd(requests_per_day: float, input_tokens: int, output_tokens: int, input_usd_per_mtok: float,
                       output_usd_per_mtok: float, price_factor: float = 1.0) -> float:
    """The CONTRACT's formula; `output_tokens` are the billed ones, `price_factor` 1 − a batch discount."""
    return requests_per_day * DAYS_PER_MONTH * (input_tokens * input_usd_per_mtok + output_tokens * output_usd_per_mtok) * price_factor / 1e6


def busy_hours_per_day(requests_per_day: float, seconds_per_request: float) -> float:
    """Machine-hours of work a day, at one machine's time per request under full load."""
    return requests_per_day * seconds_per_request / 3600


def machines_needed(busy_hours: float) -> int:
    return max(1, math.ceil(busy_hours / 24))


def gpus_per_machine(hardware: Hardware) -> int:
    """A machine class's price and power are for one GPU of the class's usual size; more GPUs, more of both."""
    return max(1, gpu_count(hardware))


def local_monthly_usd(requests_per_day: float, seconds_per_request: float | None, hardware: Hardware, latency: str,
                      assumptions: CostAssumptions) -> float | None:
    """Own hardware: amortized purchase + energy, with as many machines as the load needs.
    Cloud: GPU hours rented (kept on around the clock unless the work is batch)."""
    if seconds_per_request is None:
        return None
    return local_cost_model(hardware, latency, assumptions)(seconds_per_request, requests_per_day)


def local_cost_at(seconds_per_request: float, hardware: Hardware, latency: str, assumptions: CostAssumptions):
    """local_monthly_usd as a function of requests/day (cost curves)."""
    return functools.partial(local_cost_model(hardware, latency, assumptions), seconds_per_request)


def local_cost_model(hardware: Hardware, latency: str, assumptions: CostAssumptions):
    """local_monthly_usd as a function of (seconds per request, requests/day), its constants worked out
    once: the engine prices every local model of an answer on the same hardware."""
    gpus = gpus_per_machine(hardware)
    if hardware.target == "cloud":
        per_hour = gpus * assumptions.gpu_hour_usd

        def cloud(seconds_per_request: float, requests_per_day: float) -> float:
            busy = busy_hours_per_day(requests_per_day, seconds_per_request)
            # Batch work can start machines when there is work and stop them after; anything a user
            # waits on needs them running.
            hours = busy * DAYS_PER_MONTH if latency == "batch" else machines_needed(busy) * HOURS_PER_MONTH
            return max(hours, MIN_CLOUD_HOURS) * per_hour
        return cloud
    machine = assumptions.machine(hardware)
    price = gpus * assumptions.hardware_usd[machine] / assumptions.amortization_months
    watts = assumptions.watts[machine] * gpus
    idle_watts = watts * assumptions.idle_power_share
    per_kwh = assumptions.usd_per_kwh * DAYS_PER_MONTH / 1000

    def own(seconds_per_request: float, requests_per_day: float) -> float:
        busy = busy_hours_per_day(requests_per_day, seconds_per_request)
        machines = machines_needed(busy)
        return machines * price + (busy * watts + (machines * 24 - busy) * idle_watts) * per_kwh
    return own


def local_cost_basis(hardware: Hardware, assumptions: CostAssumptions) -> str:
    """The local-cost formula with the figures it uses for this hardware, to show with the answer."""
    gpus = gpus_per_machine(hardware) if hardware.gpu_vram_gb > 0 else 0
    if hardware.target == "cloud":
        text = (f"Local cost = {max(gpus, 1)} GPU{'s' if gpus > 1 else ''} rented at ${assumptions.gpu_hour_usd:g} an hour each"
                " (around the clock unless the work is batch).")
    else:
        machine = assumptions.machine(hardware)
        which = hardware.target if machine == hardware.target else f"{hardware.target} without a GPU"
        each = f" × {gpus} GPUs" if gpus > 1 else ""
        text = (f"Local cost = machines × ${assumptions.hardware_usd[machine]:,.0f} ({which}){each} ÷ {assumptions.amortization_months} months"
                f" + energy at {assumptions.watts[machine]:,.0f} W{each} while generating and ${assumptions.usd_per_kwh:g}/kWh.")
    if hardware.gpu_vram_gb > 0:
        text += (f" The {hardware.gpu_vram_gb:g} GB of GPU memory is read as {gpus} GPU{'s' if gpus > 1 else ''}; each serves up to"
                 f" {assumptions.max_parallel_requests} requests at once, as many as the memory left for their KV caches holds.")
    return text


def hybrid_monthly_usd(slm_usd: float | None, llm_usd_for_its_share: float | None) -> float | None:
    """The SLM side is costed at full volume (in a cascade it sees every request first); the LLM side
    at its share of the volume, which for a hosted model is exactly share × its full-volume cost."""
    if slm_usd is None or llm_usd_for_its_share is None:
        return None
    return slm_usd + llm_usd_for_its_share
