"""From every model's plans to the recommendation: the cheapest plan that meets every requirement.

Each option (SLM, LLM, hybrid) is its best plan: the cheapest feasible one, or, when none is, the
nearest (fewest requirements missed) with what rules it out. The verdict is the option of the
cheapest feasible plan; when nothing is feasible, each requirement that could be relaxed is named
with the cheapest plan that would then be feasible.
"""

import math
from dataclasses import dataclass, replace
from typing import Sequence

from . import feasibility
from .devices import DeviceSpec, OwnDevices, own_devices, rentable
from .feasibility import Problem
from .plans import Plan, model_plans
from .types import OPTIONS, CostAssumptions, ModelSpec, Needs

# A hybrid's tail must beat the SLM on the task by this much to be worth routing to.
TAIL_MARGIN = 0.03
# Equal costs go to the simplest to run: one small model, then one large, then both.
TIE_ORDER = ("slm", "llm", "hybrid")


@dataclass(frozen=True)
class ModelChoice:
    model: ModelSpec
    plan: Plan  # its best plan
    plans: tuple[Plan, ...]  # every way to run it


@dataclass(frozen=True)
class HybridPlan:
    slm: Plan
    llm: Plan
    escalated_share: float
    share_source: str
    quality: float  # expected: (1 − share) × the SLM's + share × the tail's
    monthly_cost_usd: float
    shared_devices_usd: float  # amortisation not counted twice when both run on the same own devices
    problems: tuple[Problem, ...]

    @property
    def feasible(self) -> bool:
        return not self.problems

    def cost(self) -> float:
        return self.monthly_cost_usd

    def to_dict(self, brief: bool = False) -> dict:
        return {"slm": self.slm.to_dict(brief), "llm": self.llm.to_dict(brief), "escalated_share": round(self.escalated_share, 3),
                "share_source": self.share_source, "quality": round(self.quality, 3), "monthly_cost_usd": round(self.monthly_cost_usd, 2),
                "feasible": self.feasible, "infeasible_because": [p.text for p in self.problems],
                "requirements_missed": [p.requirement for p in self.problems], "shared_devices_usd": round(self.shared_devices_usd, 2)}


@dataclass(frozen=True)
class Relaxation:
    requirement: str
    option: str
    plan: Plan | HybridPlan


@dataclass(frozen=True)
class Planning:
    own: OwnDevices
    slm: tuple[ModelChoice, ...]  # best first
    llm: tuple[ModelChoice, ...]
    hybrid: HybridPlan | None
    best: dict  # option → its best plan (Plan or HybridPlan) or None
    verdict: str
    feasible: bool  # whether the verdict's plan meets every requirement
    relaxations: tuple[Relaxation, ...]


# How far a plan is from feasible: first the rules a team cannot bend (who may hold the data), then
# whether it answers in time, then how many requirements it misses (money weighs more than what more
# hardware or patience buys), then its cost.
RULES = ("privacy", "offline", "residency")
WEIGHT = {"budget_usd_month": 2}


def _key(plan) -> tuple:
    problems = plan.problems
    return (sum(p.requirement in RULES for p in problems), any(p.requirement == "latency" for p in problems),
            sum(WEIGHT.get(p.requirement, 1) for p in problems), plan.cost(), getattr(plan, "quality_loss", 0.0))


def _choices(models: Sequence[ModelSpec], needs: Needs, own: OwnDevices, rentals: tuple[DeviceSpec, ...],
             assumptions: CostAssumptions) -> list[ModelChoice]:
    choices = []
    for model in models:
        plans = model_plans(model, needs, own, rentals, assumptions)
        if plans:
            choices.append(ModelChoice(model, min(plans, key=_key), plans))
    # Feasible first, cheapest first, then the better model; the infeasible nearest first, those that
    # fit somewhere before those that do not, the better first.
    return sorted(choices, key=lambda c: (_key(c.plan)[:3], c.plan.cost() if c.plan.feasible else c.plan.cost() == math.inf,
                                          -c.plan.quality, c.plan.cost(), c.model.slug))


def hybrid_share(needs: Needs) -> tuple[float, str]:
    if needs.calibrated_share is not None:
        return needs.calibrated_share, needs.calibrated_share_source or "a calibrated share"
    if needs.complex_share is not None:
        return needs.complex_share, f"your estimate that {needs.complex_share:.0%} of requests are hard"
    share = {"good_enough": 0.1, "high": 0.2, "best": 0.3}[needs.quality]
    return share, f"an assumed {share:.0%} for {needs.quality.replace('_', ' ')} quality (give the share of hard requests to refine it)"


def _tail_plan(choice: ModelChoice, needs: Needs, share: float, own: OwnDevices, rentals, assumptions) -> Plan:
    """The tail model's cheapest plan for its share of the volume, whichever way it runs: the way that is
    cheapest for all the requests need not be for a share of them (own devices cost the same at any volume,
    rent follows it)."""
    part = replace(needs, requests_per_day=max(1, round(needs.requests_per_day * share)))
    return min(model_plans(choice.model, part, own, rentals, assumptions), key=_key, default=choice.plan)


def _pair(needs: Needs, first: Plan, tail: Plan, share: float, source: str, own: OwnDevices, assumptions) -> HybridPlan:
    quality = (1 - share) * first.quality + share * tail.quality
    shared = 0.0
    problems = [p for p in tail.problems]
    if first.where == tail.where == "own" and own.device is not None:
        if own.device.kind == "gpu":
            if first.count + tail.count > own.count:
                problems.append(Problem("memory", f"the SLM's {first.count} and the tail's {tail.count} devices are more than your {own.count}"))
        elif (first.memory_gb or 0) + (tail.memory_gb or 0) <= own.device.usable_gb:
            # One host holds both: its price is counted once.
            shared = min(first.count, tail.count) * (own.device.price_usd or 0) / assumptions.amortization_months
        else:
            problems.append(Problem("memory", f"both models together need {(first.memory_gb or 0) + (tail.memory_gb or 0):,.0f} GB; "
                                              f"{own.device.usable_gb:,.0f} GB is usable"))
    bar = feasibility.QUALITY_BAR[needs.quality]
    if (p := feasibility.quality_problem(quality, bar, needs.quality, needs.task, " expected with the routing")):
        problems.append(p)
    return HybridPlan(first, tail, share, source, quality, first.cost() + tail.cost() - shared, shared, tuple(problems))


def _hybrid(needs: Needs, slm: Sequence[ModelChoice], llm: Sequence[ModelChoice], own: OwnDevices, rentals,
            assumptions) -> HybridPlan | None:
    """The SLM's cheapest plan that meets everything but the quality bar, for every request (a cascade
    sees each first), with the cheapest LLM that meets every requirement for the escalated share, each
    pair priced as the plan it would be (the tail planned for its share), so that the cheapest is chosen."""
    share, source = hybrid_share(needs)
    # The pair is picked at the assumed share, so that a policy calibrated for it (its measured share)
    # prices the same pair rather than moving the advice to another.
    assumed, assumed_source = hybrid_share(replace(needs, calibrated_share=None)) if needs.calibrated_share is not None else (share, source)
    bar = feasibility.QUALITY_BAR[needs.quality]
    firsts = [c for c in slm if all(p.requirement == "quality" for p in c.plan.problems)]
    tails = [(c, _tail_plan(c, needs, assumed, own, rentals, assumptions)) for c in llm if c.plan.feasible]
    tails.sort(key=lambda t: (t[1].cost(), -t[1].quality))
    pairs = []
    for first in firsts:
        stronger = [t for t in tails if t[1].quality >= first.plan.quality + TAIL_MARGIN]
        # The cheapest tail that lifts the expected quality to the bar, else the strongest.
        need = (bar - (1 - assumed) * first.plan.quality) / assumed if assumed > 0 else -math.inf
        tail = next((t for t in stronger if t[1].quality >= need), max(stronger, key=lambda t: t[1].quality, default=None))
        if tail is not None:
            hybrid = _pair(needs, first.plan, tail[1], assumed, assumed_source, own, assumptions)
            pairs.append((hybrid.quality < bar, len(hybrid.problems), hybrid.cost(), -hybrid.quality, first, tail[0], hybrid))
    if not pairs:
        return None
    *_, first, tail_choice, hybrid = min(pairs, key=lambda pair: pair[:4])
    if share == assumed:
        return hybrid
    return _pair(needs, first.plan, _tail_plan(tail_choice, needs, share, own, rentals, assumptions), share, source, own, assumptions)


def _relaxations(best: dict) -> tuple[Relaxation, ...]:
    """For each requirement some plan misses alone: the cheapest plan that misses only it."""
    found: dict[str, Relaxation] = {}
    for option, plans in best.items():
        for plan in plans:
            missed = {p.requirement for p in plan.problems}
            if len(missed) != 1:
                continue
            requirement = missed.pop()
            if requirement not in found or plan.cost() < found[requirement].plan.cost():
                found[requirement] = Relaxation(requirement, option, plan)
    return tuple(sorted(found.values(), key=lambda r: feasibility.REQUIREMENTS.index(r.requirement)))


def plan(needs: Needs, models: Sequence[ModelSpec], devices: tuple[DeviceSpec, ...], assumptions: CostAssumptions,
         price_usd: float | None = None, power_w: float | None = None, rent_usd_per_hour: float | None = None) -> Planning:
    """`price_usd`, `power_w`, `rent_usd_per_hour`: the team's own figures for one of its devices,
    replacing the catalogue's (a price of 0: already paid for)."""
    own = own_devices(needs.hardware, devices)
    given = {name: value for name, value in (("price_usd", price_usd), ("power_w", power_w), ("rent_usd_per_hour", rent_usd_per_hour))
             if value is not None}
    if own.device is not None and given:
        own = replace(own, device=replace(own.device, **given))
    rentals = rentable(devices)
    slm_models = [m for m in models if m.is_slm]
    llm_models = [m for m in models if not m.is_slm]
    slm = _choices(slm_models, needs, own, rentals, assumptions)
    llm = _choices(llm_models, needs, own, rentals, assumptions)
    hybrid = _hybrid(needs, slm, llm, own, rentals, assumptions)
    best = {"slm": slm[0].plan if slm else None, "llm": llm[0].plan if llm else None, "hybrid": hybrid}
    feasible = {option: p for option, p in best.items() if p is not None and p.feasible}
    if feasible:
        verdict = min(feasible, key=lambda o: (feasible[o].cost(), TIE_ORDER.index(o)))
        relaxations = ()
    else:
        candidates = {option: p for option, p in best.items() if p is not None}
        verdict = min(candidates, key=lambda o: (_key(candidates[o]), TIE_ORDER.index(o))) if candidates else "slm"
        every = {"slm": [p for c in slm for p in c.plans], "llm": [p for c in llm for p in c.plans], "hybrid": [hybrid] if hybrid else []}
        relaxations = _relaxations(every)
    return Planning(own, tuple(slm), tuple(llm), hybrid, best, verdict, bool(feasible), relaxations)


def scores(planning: Planning) -> dict[str, float]:
    """0..1 from the plans, the verdict highest: a feasible option by how its cost compares with the
    cheapest feasible one; an infeasible one low, lower the more requirements it misses."""
    best = planning.best
    feasible_costs = [p.cost() for p in best.values() if p is not None and p.feasible]
    cheapest = min(feasible_costs, default=math.inf)
    out = {}
    for option in OPTIONS:
        p = best[option]
        if p is None:
            out[option] = 0.0
        elif p.feasible:
            ratio = 1.0 if p.cost() <= cheapest else cheapest / p.cost()
            out[option] = round(0.4 + 0.5 * ratio, 3)
        else:
            out[option] = round(0.3 / (1 + len(p.problems)), 3)
    if out[planning.verdict] < max(out.values()):
        out[planning.verdict] = max(out.values())
    return out
