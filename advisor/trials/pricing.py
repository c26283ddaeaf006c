"""What a run cost, by the same cost model as the advisor (advisor/recommend/costs.py).

A hosted run costs its tokens at the catalogue's prices. A run on our own machine costs its time at
the machine's hourly price under the advisor's cost assumptions: its purchase price written off over
the amortisation months, plus its power at the electricity price — so a trial, a comparison and the
advice price the same hardware the same way. When a trial checks a recommendation whose answers
changed the assumptions, those are used.
"""

import functools
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
    rate, basis = machine_usd_per_hour(hardware or this_machine(), assumptions or DEFAULT_ASSUMPTIONS)
    text = f"this machine's time at ${rate:.3f}/hour ({basis}; the advisor's cost assumptions)"
    return total_s / 3600 * rate, text[:200]


def trial_run_cost(model, input_tokens, output_tokens, total_s, *, trial=None) -> tuple[float | None, str]:
    """run_cost with the assumptions of the recommendation the trial checks, if any."""
    return run_cost(model, input_tokens, output_tokens, total_s,
                    assumptions=recommendation_assumptions(getattr(trial, "recommendation", None)))


def cost_per_1k_requests(costs) -> float | None:
    """1,000 × the mean cost of the priced runs (as evaluations count it), unrounded."""
    costs = [cost for cost in costs if cost is not None]
    return 1000 * sum(costs) / len(costs) if costs else None


def monthly_usd(cost_per_1k: float | None, requests_per_day: float | None) -> float | None:
    """At a volume: cost per 1,000 requests × requests a day × 30 ÷ 1,000."""
    if cost_per_1k is None or requests_per_day is None:
        return None
    return cost_per_1k * requests_per_day * DAYS_PER_MONTH / 1000
