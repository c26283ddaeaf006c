"""What a run cost, by the same cost model as the advisor (advisor/recommend/costs.py).

A hosted run costs its tokens at the catalogue's prices. A run on our own machine costs its busy
time at a machine's hourly price under the advisor's cost assumptions: its purchase price written off
over the amortisation months, plus its power at the electricity price. When the run checks a
recommendation, that machine is the team's (the recommendation's hardware and assumptions, the
advisor's basis) and the basis names this server as the one that measured; otherwise it is this
server. A month of local work is priced as the advisor prices it: the machines needed all month,
busy and idle (`monthly_busy_and_idle`), from the busy time measured per request.
"""

import functools
import math
from dataclasses import replace

from advisor.recommend import CostAssumptions, Hardware
from advisor.recommend.costs import DAYS_PER_MONTH, HOURS_PER_MONTH

DEFAULT_ASSUMPTIONS = CostAssumptions()
# The assumption fields the advisor form and the API take; machine_usd and machine_watts are for the
# hardware the answers name.
ASSUMPTION_FIELDS = ("amortization_months", "usd_per_kwh", "gpu_hour_usd", "machine_usd", "machine_watts", "max_parallel_requests")


def assumptions_from_answers(given: dict | None, hardware: Hardware) -> CostAssumptions:
    """Cost assumptions from the answers' `assumptions` (only the figures given change)."""
    given = {name: value for name, value in (given or {}).items() if name in ASSUMPTION_FIELDS and value is not None}
    machine = DEFAULT_ASSUMPTIONS.machine(hardware)
    if "machine_usd" in given:
        given["hardware_usd"] = dict(DEFAULT_ASSUMPTIONS.hardware_usd) | {machine: given.pop("machine_usd")}
    if "machine_watts" in given:
        given["watts"] = dict(DEFAULT_ASSUMPTIONS.watts) | {machine: given.pop("machine_watts")}
    return replace(DEFAULT_ASSUMPTIONS, **given)


def recommendation_assumptions(recommendation) -> CostAssumptions:
    """The assumptions a saved recommendation was priced with (defaults where the user left them)."""
    if recommendation is None:
        return DEFAULT_ASSUMPTIONS
    answers = recommendation.answers or {}
    hardware = answers.get("hardware") or {}
    return assumptions_from_answers(answers.get("assumptions"), Hardware(hardware.get("target", "server"), hardware.get("ram_gb", 0), hardware.get("gpu_vram_gb", 0)))


def team_hardware(recommendation) -> Hardware | None:
    """The hardware the recommendation was asked about (the team's), or None without one."""
    if recommendation is None:
        return None
    hardware = (recommendation.answers or {}).get("hardware") or {}
    return Hardware(hardware.get("target", "server"), hardware.get("ram_gb", 0), hardware.get("gpu_vram_gb", 0))


@functools.cache
def this_machine() -> Hardware:
    """The machine this process (the worker) runs on, as the advisor's hardware classes see it."""
    from advisor.hardware import probe_machine

    probe = probe_machine()
    return Hardware(probe.target, probe.ram_gb, probe.gpu_vram_gb)


def machine_usd_per_hour(hardware: Hardware, assumptions: CostAssumptions = DEFAULT_ASSUMPTIONS) -> tuple[float, str]:
    """One request's share of an hour of the machine, and how it was reached."""
    if hardware.target == "cloud":
        rate, basis = assumptions.gpu_hour_usd, f"cloud GPU rent ${assumptions.gpu_hour_usd:g}/hour"
    else:
        machine = assumptions.machine(hardware)
        price, watts = assumptions.hardware_usd[machine], assumptions.watts[machine]
        rate = price / assumptions.amortization_months / HOURS_PER_MONTH + watts / 1000 * assumptions.usd_per_kwh
        which = hardware.target if machine == hardware.target else f"{hardware.target} without a GPU"
        basis = f"{which}: ${price:,.0f} over {assumptions.amortization_months} months + {watts:,.0f} W at ${assumptions.usd_per_kwh:g}/kWh"
    if hardware.gpu_vram_gb > 0 and assumptions.max_parallel_requests > 1:
        # As in the advice: a GPU serves several requests at once, each pays its share.
        rate /= assumptions.max_parallel_requests
        basis += f", shared by {assumptions.max_parallel_requests} requests at once"
    return rate, basis


def run_cost(model, input_tokens: int | None, output_tokens: int | None, total_s: float, *,
             assumptions: CostAssumptions | None = None, hardware: Hardware | None = None) -> tuple[float | None, str]:
    """(cost in USD, the basis in words) of one run of `model`."""
    if model.provider.hosted or model.input_usd_per_mtok or model.output_usd_per_mtok:
        if input_tokens is None or output_tokens is None:
            return None, "unknown: the server reported no token counts"
        cost = (input_tokens * model.input_usd_per_mtok + output_tokens * model.output_usd_per_mtok) / 1e6
        return cost, f"catalogue prices: ${model.input_usd_per_mtok}/Mtok in, ${model.output_usd_per_mtok}/Mtok out"
    measured_on = this_machine()
    rate, basis = machine_usd_per_hour(hardware or measured_on, assumptions or DEFAULT_ASSUMPTIONS)
    if hardware is None or hardware == measured_on:
        text = f"busy time only, on this server at ${rate:.3f}/hour ({basis})"
    else:
        text = f"busy time only, measured on this server ({measured_on.target} class), priced on your {hardware.target} at ${rate:.3f}/hour ({basis})"
    return total_s / 3600 * rate, text[:200]


def trial_run_cost(model, input_tokens, output_tokens, total_s, *, trial=None) -> tuple[float | None, str]:
    """run_cost on the devices and assumptions of the recommendation the trial (or evaluation) checks, if any."""
    recommendation = getattr(trial, "recommendation", None)
    return run_cost(model, input_tokens, output_tokens, total_s,
                    assumptions=recommendation_assumptions(recommendation), hardware=team_hardware(recommendation))


def is_machine_priced(model) -> bool:
    """Priced by machine time (our own machines), not by tokens."""
    return not (model.provider.hosted or model.input_usd_per_mtok or model.output_usd_per_mtok)


def monthly_busy_and_idle(*, seconds_per_request: float | None, requests_per_day: float | None, recommendation) -> tuple[float | None, str]:
    """A month of local work as the advisor prices owned devices (advisor/recommend/plans.py): the
    machines the load needs, written off all month, their power at full while busy and at the idle
    share the rest (rented: all month unless the work is batch); from the busy seconds per request
    measured here, on the team's hardware (this server's without a recommendation)."""
    if seconds_per_request is None or requests_per_day is None:
        return None, ""
    measured_on = this_machine()
    hardware = team_hardware(recommendation) or measured_on
    assumptions = recommendation_assumptions(recommendation)
    latency = (getattr(recommendation, "answers", None) or {}).get("latency", "interactive")
    # As in the advice: a GPU serves several requests at once, each pays its share of the time.
    shared = seconds_per_request / (assumptions.max_parallel_requests if hardware.gpu_vram_gb > 0 else 1)
    busy_per_day = requests_per_day * shared / 3600
    machines = max(1, math.ceil(busy_per_day / 24))
    busy = min(busy_per_day * DAYS_PER_MONTH, machines * HOURS_PER_MONTH)
    if hardware.target == "cloud":
        hours = max(busy, machines * DAYS_PER_MONTH) if latency == "batch" else machines * HOURS_PER_MONTH
        usd = hours * assumptions.gpu_hour_usd
    else:
        machine = assumptions.machine(hardware)
        watts = assumptions.watts[machine]
        energy = (busy * watts + (machines * HOURS_PER_MONTH - busy) * watts * assumptions.idle_power_share) * assumptions.usd_per_kwh / 1000
        usd = machines * assumptions.hardware_usd[machine] / assumptions.amortization_months + energy
    which = f"your {hardware.target}" if recommendation is not None else f"this server ({hardware.target} class)"
    basis = (f"as the advisor prices it, on {which}: {machines} machine(s) all month, busy {busy_per_day:.1f} h a day and idle the rest, "
             f"at {seconds_per_request:.2f} s of busy time a request measured on this server ({measured_on.target} class)")
    return round(usd, 2), basis


def cost_per_1k_requests(costs) -> float | None:
    """1,000 × the mean cost of the priced runs (as evaluations count it), unrounded."""
    costs = [cost for cost in costs if cost is not None]
    return 1000 * sum(costs) / len(costs) if costs else None


def monthly_usd(cost_per_1k: float | None, requests_per_day: float | None) -> float | None:
    """At a volume: cost per 1,000 requests × requests a day × 30 ÷ 1,000."""
    if cost_per_1k is None or requests_per_day is None:
        return None
    return cost_per_1k * requests_per_day * DAYS_PER_MONTH / 1000
