"""From a team's needs to SLM, LLM or hybrid: the cheapest deployment plan that meets every requirement.

The planner (planner.py) builds a plan per way to run each model and keeps the feasible ones; this
module turns its choice into the CONTRACT's answer: the verdict, scores derived from the plans,
reasons in words, candidates with their plans, costs at other volumes.
"""

from typing import Sequence

from . import feasibility, plans, words
from .devices import DeviceSpec, shipped_devices
from .planner import Planning, hybrid_share, plan, scores
from .types import Candidate, CostAssumptions, CostPoint, HybridSplit, ModelSpec, Needs, Reason, Recommendation

MAX_CANDIDATES = 5
QUALITY_BAR = feasibility.QUALITY_BAR
# Benchmarks that measure each task; a score from any other source is a labelled proxy for it.
FITTING_SOURCES = {
    "reasoning": ("MMLU-Pro", "GPQA", "BBH", "BIG-Bench"),
    "code": ("HumanEval", "MBPP", "LiveCodeBench", "SWE-bench"),
    "research": ("MMLU", "GPQA", "SimpleQA"),
    "chat": ("Arena", "MT-Bench", "IFEval"),
    "translation": ("MMMLU", "Global-MMLU", "Global MMLU", "FLORES", "WMT"),
}
FORMULAS = {
    "memory_gb": "weights (total parameters × bytes/parameter at the precision; mixture-of-experts: every expert) + KV cache (2 × layers × KV heads × head size × 2 bytes × (input + output) tokens) + 0.5 GB a device + 5 % of the weights (+5 % split over devices)",
    "tokens_per_s": f"one request: bandwidth × {plans.EFFICIENCY} ÷ (active parameters × bytes/parameter + its KV cache): decoding reads every weight it uses once a token",
    "first_token_s": f"prefill (2 × active parameters × prompt tokens ÷ (compute × {plans.COMPUTE_UTILISATION})) ÷ (1 − utilisation at the peak hour) + one decode step; peak hour = {plans.PEAK_FACTOR:g} × the day's average rate",
    "replicas": f"enough copies that each stays under {plans.MAX_UTILISATION:.0%} busy at the peak and the first token meets the latency bound; streams per copy from the memory left for KV caches (at most the requests a device serves at once, 256 by default as vLLM)",
    "cost_own": "devices used × price ÷ amortisation months + power (busy hours at full power, the rest at the idle share) × price per kWh; devices counted once however many options share them",
    "cost_rented": "devices × rent per hour × hours they stay on (all month unless the work is batch)",
    "cost_hosted": "requests/day × 30 × (input tokens × input price + (output + reasoning tokens) × output price) ÷ 1,000,000, × (1 − batch discount) through a batch API",
    "quality": f"the model's score for the task × (1 − loss at the precision); {plans.PRECISION_SOURCE}",
    "hosted_speed": plans.HOSTED_SPEED_SOURCE,
    "latency": f"real time: first token under {feasibility.FIRST_TOKEN_BOUND_S['realtime']:g} s; interactive: under {feasibility.FIRST_TOKEN_BOUND_S['interactive']:g} s (Nielsen 1993) and at least {feasibility.READING_TOKENS_PER_S:g} tokens/s (reading speed, Brysbaert 2019)",
    "note": "These are estimates from the devices' data sheets, not measurements: try the models on your own prompts to check.",
}
FACTORS = {"memory": "hardware", "context": "input_tokens", "quality": "quality", "latency": "latency", "privacy": "privacy",
           "offline": "offline", "residency": "residency", "budget_usd_month": "budget_usd_month"}


def _is_proxy(task: str, source: str) -> bool:
    """A score whose stated source does not measure the task (an unstated source is not judged)."""
    return bool(source) and not any(name.lower() in source.lower() for name in FITTING_SOURCES.get(task, ()))


def _candidate(choice, needs: Needs) -> Candidate:
    model, p = choice.model, choice.plan
    bar = QUALITY_BAR[needs.quality]
    source = model.quality_source_for(needs.task)
    proxy = _is_proxy(needs.task, source)
    notes = [problem.text for problem in p.problems] + list(p.notes)
    if proxy:
        notes.append(f"quality only by a proxy: {source} does not measure {needs.task.replace('_', ' ')}")
    if model.runnable_here:
        notes.append("can be tried on this installation now")
    return Candidate(
        slug=model.slug, name=model.name, params_b=model.params_b, hosted=p.hosted, fits=p.fits,
        memory_gb=None if p.memory_gb is None else round(p.memory_gb, 2), quantization=p.precision or None,
        est_tokens_per_s=None if p.tokens_per_s is None else round(p.tokens_per_s, 1), input_usd_per_mtok=model.input_usd_per_mtok,
        output_usd_per_mtok=model.output_usd_per_mtok, monthly_cost_usd=p.monthly_cost_usd, quality_for_task=model.quality_for(needs.task),
        meets_quality=p.quality >= bar, runnable_here=model.runnable_here,
        throughput_tokens_per_s=None if p.throughput_tokens_per_s is None else round(p.throughput_tokens_per_s, 1),
        machines=p.count or None, fast_enough=not any(problem.requirement == "latency" for problem in p.problems), notes=tuple(notes),
        quality_source=source, quality_is_proxy=proxy, quality_level=needs.quality, quality_bar=bar,
        first_token_s=None if p.first_token_s is None else round(p.first_token_s, 2), busy_hours_per_day=p.busy_hours_per_day,
        within_budget=p.within_budget, billed_output_tokens=needs.output_tokens + p.reasoning_tokens if p.hosted else None,
        price_factor=1 - model.batch_discount if p.where == "batch_api" else 1.0, cost_formula=p.cost_formula, plan=p.to_dict(brief=True),
    )


def _name(planning: Planning, slug: str) -> str:
    for choice in planning.slm + planning.llm:
        if choice.model.slug == slug:
            return choice.model.name
    return slug


def _summary(planning: Planning, p) -> str:
    if p is None:
        return ""
    if hasattr(p, "escalated_share"):
        return (f"{words.plan_summary(p.slm, _name(planning, p.slm.model))} for every request, and {p.escalated_share:.0%} escalated to "
                f"{words.plan_summary(p.llm, _name(planning, p.llm.model))}; {words.money(p.monthly_cost_usd)} a month in all")
    return words.plan_summary(p, _name(planning, p.model))


def _reasons(planning: Planning, needs: Needs) -> tuple[Reason, ...]:
    verdict, best = planning.verdict, planning.best
    winner = best[verdict]
    reasons = [Reason("plan", verdict, words.chosen(verdict, _summary(planning, winner), planning.feasible), 1.0)]
    winner_cost = winner.cost() if winner is not None and planning.feasible else None
    for option in ("slm", "llm", "hybrid"):
        if option == verdict:
            continue
        p = best[option]
        factor = FACTORS[p.problems[0].requirement] if p is not None and p.problems else "requests_per_day"
        reasons.append(Reason(factor, verdict, words.lost(option, p, _summary(planning, p), winner_cost),
                              1.0 if p is None or p.problems else round(min(1.0, 1 - winner_cost / p.cost()) if winner_cost and p.cost() else 0.0, 3)))
    if planning.own.preset:
        reasons.append(Reason("hardware", verdict, f"Your hardware: {planning.own.preset}.", 0.0))
    return tuple(reasons)


def _excluded(needs: Needs, planning: Planning) -> tuple[str, ...]:
    """The hosted models ruled out by a rule about who may hold the data, or by a budget of 0, by rule."""
    ruled: dict[str, list[str]] = {}
    for c in planning.slm + planning.llm:
        for p in c.plans:
            if p.where in ("hosted", "batch_api"):
                for requirement in {problem.requirement for problem in p.problems} & EXCLUDING:
                    if c.model.slug not in ruled.setdefault(requirement, []):
                        ruled[requirement].append(c.model.slug)
    lines = []
    for requirement in feasibility.REQUIREMENTS:
        if names := ruled.get(requirement):
            shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
            lines.append(f"hosted plans excluded because they cannot {feasibility.WORDS[requirement]}: {shown}")
    return tuple(lines)


EXCLUDING = {"privacy", "offline", "residency", "budget_usd_month"}


def _caveats(planning: Planning, needs: Needs, shown: dict) -> tuple[str, ...]:
    caveats = []
    if not planning.feasible:
        relax = "; ".join(words.relaxation(r.requirement, _summary(planning, r.plan)) for r in planning.relaxations)
        caveats.append("Not a confident answer: no plan meets every requirement." + (f" {relax}" if relax else ""))
    top = (shown.get(planning.verdict) or shown.get("slm") or ())[:1]
    for c in top:
        if c.meets_quality and c.quality_is_proxy:
            caveats.append(f"{c.name} meets {needs.quality.replace('_', ' ')} quality for {needs.task.replace('_', ' ')} only by a proxy ({c.quality_source}): check it on your own prompts.")
    return tuple(caveats)


def _curve(needs: Needs, planning: Planning, assumptions: CostAssumptions) -> tuple[tuple[CostPoint, ...], float | None]:
    """Each option's plan costed at other volumes (same devices, precision and way of running), and the
    volume from which the SLM's plan costs no more than the LLM's."""
    models = {c.model.slug: c.model for c in planning.slm + planning.llm}

    def cost_function(p):
        if p is None:
            return None
        if hasattr(p, "escalated_share"):
            slm, llm = cost_function(p.slm), cost_function(p.llm)
            if slm is None or llm is None:
                return None
            return lambda requests: _sum(slm(requests), llm(requests * p.escalated_share), -p.shared_devices_usd)
        return lambda requests: plans.cost_at(p, models[p.model], needs, requests, assumptions)

    functions = {option: cost_function(planning.best[option]) for option in ("slm", "llm", "hybrid")}
    grid = sorted({round(10 ** (k / 2)) for k in range(4, 15)} | {max(needs.requests_per_day, 1)})
    points = tuple(CostPoint(requests, *(f(requests) if f else None for f in functions.values())) for requests in grid)
    return points, _break_even(functions["slm"], functions["llm"], points)


def _break_even(slm, llm, points) -> float | None:
    """The smallest volume from which the SLM's plan costs no more than the LLM's: the first crossing on
    the curve's volumes, narrowed by halving (None: no crossing, the SLM is never or always cheaper)."""
    if slm is None or llm is None:
        return None
    cheaper = [p.slm is not None and p.llm is not None and p.slm <= p.llm for p in points]
    if all(cheaper) or not any(cheaper) or cheaper[0]:
        return None
    after = cheaper.index(True)
    low, high = points[after - 1].requests_per_day, points[after].requests_per_day
    for _ in range(6):
        middle = (low * high) ** 0.5
        a, b = slm(middle), llm(middle)
        if a is not None and b is not None and a <= b:
            high = middle
        else:
            low = middle
    return high


def _sum(*values):
    return None if any(v is None for v in values) else sum(values)


def _own_basis(planning: Planning, assumptions: CostAssumptions) -> str:
    own = planning.own
    if own.device is None:
        return "No devices of your own: rented devices and hosted APIs only."
    d = own.device
    figures = (f"${d.price_usd:,.0f} each written off over {assumptions.amortization_months} months" if d.price_usd is not None else "no purchase price")
    power = f", {d.power_w:,.0f} W each while generating at ${assumptions.usd_per_kwh:g}/kWh" if d.power_w is not None else ""
    return f"Your devices: {own.count} × {d.name}, {figures}{power}" + (f" ({own.preset})." if own.preset else ".")


def recommend(needs: Needs, models: Sequence[ModelSpec], assumptions: CostAssumptions = CostAssumptions(),
              devices: Sequence[DeviceSpec] | None = None, price_usd: float | None = None, power_w: float | None = None,
              rent_usd_per_hour: float | None = None) -> Recommendation:
    """`devices`: the device catalogue (the shipped one when None); `price_usd`, `power_w`,
    `rent_usd_per_hour`: the team's own figures for one of its devices, replacing the catalogue's."""
    devices = tuple(devices) if devices is not None else shipped_devices()
    planning = plan(needs, tuple(models), devices, assumptions, price_usd, power_w, rent_usd_per_hour)
    shown = {"slm": tuple(_candidate(c, needs) for c in planning.slm[:MAX_CANDIDATES]),
             "llm": tuple(_candidate(c, needs) for c in planning.llm[:MAX_CANDIDATES])}
    hybrid = planning.hybrid
    if hybrid is not None and hybrid.llm.model not in {c.slug for c in shown["llm"]}:
        tail = next(c for c in planning.llm if c.model.slug == hybrid.llm.model)
        shown["llm"] = shown["llm"][:MAX_CANDIDATES - 1] + (_candidate(tail, needs),)
    share, source = hybrid_share(needs)
    if hybrid is not None:
        slm_name, tail_name = _name(planning, hybrid.slm.model), _name(planning, hybrid.llm.model)
        rule = (f"Send about {share:.0%} of requests ({source}) to {tail_name}: those a router flags as hard and those where the SLM's "
                f"confidence is low; the rest run on {slm_name}. Expected quality {hybrid.quality:.3f} (the routine share at the SLM's, "
                f"the escalated at the tail's).")
        split = HybridSplit(round(share, 3), rule, hybrid.llm.model, round(hybrid.llm.quality, 3), True, hybrid.llm.hosted, hybrid.slm.model)
    else:
        split = HybridSplit(round(share, 3), "", None, None, False)
    costs = {option: (None if p is None or p.monthly_cost_usd is None else p.monthly_cost_usd) for option, p in planning.best.items()}
    curve, break_even = _curve(needs, planning, assumptions)
    winner = planning.best[planning.verdict]
    trade_off = ""
    if winner is not None and planning.feasible and needs.budget_usd_month > 0 and winner.cost() > needs.budget_usd_month:
        trade_off = (f"The cheapest plan that meets every requirement costs {words.budget_line(winner.cost(), needs.budget_usd_month)}: "
                     "no plan within budget meets them all.")
    own = planning.own
    return Recommendation(
        verdict=planning.verdict, scores=scores(planning), reasons=_reasons(planning, needs), candidates=shown,
        monthly_cost_usd=costs, hybrid=split, cost_curve=curve, break_even_requests_per_day=break_even,
        excluded=_excluded(needs, planning), assumptions=assumptions, estimate_formulas=FORMULAS,
        local_machine=own.device.slug if own.device else "",
        local_cost_basis=_own_basis(planning, assumptions),
        trade_off=trade_off, confident=planning.feasible, caveats=_caveats(planning, needs, shown), planning=planning,
    )

