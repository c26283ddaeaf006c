"""From a team's needs to SLM, LLM or hybrid: scores, reasons, candidates, monthly costs.

Each answer moves the options' scores by a fixed, documented amount (so the engine is monotone in
each answer and easy to reason about); hard constraints remove options and models outright.
"""

import math

from . import costs, memory
from .types import Candidate, CostAssumptions, CostPoint, HybridSplit, ModelSpec, Needs, Reason, Recommendation

MAX_CANDIDATES = 5
# The quality for the task (0..1, MMLU-like) a model needs to meet each quality level.
QUALITY_BAR = {"good_enough": 0.5, "high": 0.68, "best": 0.85}

# How much each task leans towards the LLM (+) or the SLM (−): narrow, well-defined tasks suit small
# fine-tunable models; open-ended ones that need broad knowledge or creativity suit large models.
TASK_LEAN = {
    "classification": -0.25, "extraction": -0.2, "summarization": -0.05, "translation": 0.0, "customer_support": 0.0,
    "chat": 0.05, "code": 0.15, "reasoning": 0.25, "research": 0.25, "creative_writing": 0.25,
}
TASK_WORDS = {
    "classification": "classification is narrow and well defined: small models do it well, especially fine-tuned",
    "extraction": "extraction is narrow and well defined: small models do it well, especially fine-tuned",
    "summarization": "summarization is handled well by small models",
    "translation": "translation suits both; large models cover more languages",
    "customer_support": "customer support is mostly routine with a harder tail",
    "chat": "open-ended chat benefits from broad knowledge",
    "code": "code generation gains from large models' breadth",
    "reasoning": "multi-step reasoning is where large models lead most",
    "research": "research needs broad world knowledge that small models lack",
    "creative_writing": "creative writing is where large models lead most",
}
QUALITY_LEAN = {"good_enough": -0.15, "high": 0.0, "best": 0.2}
LATENCY_SLM = {"realtime": 0.2, "interactive": 0.05, "batch": 0.0}
LATENCY_LLM = {"realtime": -0.15, "interactive": 0.0, "batch": 0.0}
PRIVACY_SLM = {"public": 0.0, "internal": 0.05, "confidential": 0.2, "regulated": 0.3}
PRIVACY_LLM = {"public": 0.0, "internal": -0.05, "confidential": -0.25, "regulated": -0.5}
TARGET_SLM = {"phone": 0.15, "edge": 0.15, "laptop": 0.1, "workstation": 0.0, "server": 0.0, "cloud": 0.0}


def _clamp(value: float) -> float:
    return max(0.0, min(1.0, value))


def _local_candidate(model: ModelSpec, needs: Needs, assumptions: CostAssumptions, bar: float) -> Candidate:
    fit = memory.best_fit(model, needs.hardware, needs.input_tokens, needs.output_tokens)
    cost = costs.local_monthly_usd(needs.requests_per_day, needs.input_tokens, needs.output_tokens, fit.tokens_per_s,
                                   needs.hardware, needs.latency, assumptions)
    quality = model.quality_for(needs.task)
    return Candidate(model.slug, model.name, model.params_b, False, fit.fits, fit.memory_gb, fit.quantization,
                     fit.tokens_per_s, model.input_usd_per_mtok, model.output_usd_per_mtok, cost, quality, quality >= bar,
                     model.runnable_here)


def _hosted_candidate(model: ModelSpec, needs: Needs, bar: float) -> Candidate:
    cost = costs.hosted_monthly_usd(needs.requests_per_day, needs.input_tokens, needs.output_tokens,
                                    model.input_usd_per_mtok, model.output_usd_per_mtok)
    quality = model.quality_for(needs.task)
    return Candidate(model.slug, model.name, model.params_b, True, True, None, None, None,
                     model.input_usd_per_mtok, model.output_usd_per_mtok, cost, quality, quality >= bar, model.runnable_here)


def _rank(candidates: list[Candidate], quality: str) -> tuple[Candidate, ...]:
    """Fitting first, then those that meet the quality bar; among those the cheapest wins, unless the
    user asked for the best, when the best wins. Below the bar, the best quality wins."""
    def key(c: Candidate):
        cost = c.monthly_cost_usd if c.monthly_cost_usd is not None else math.inf
        by_cost = c.meets_quality and quality != "best"
        return (not c.fits, not c.meets_quality, cost if by_cost else -c.quality_for_task, -c.quality_for_task, cost, c.slug)

    return tuple(sorted(candidates, key=key)[:MAX_CANDIDATES])


def _hybrid_split(needs: Needs) -> HybridSplit:
    if needs.complex_share is not None:
        share = needs.complex_share
        source = f"your estimate that {share:.0%} of requests are hard"
    else:
        share = {"good_enough": 0.1, "high": 0.2, "best": 0.3}[needs.quality]
        source = f"a default of {share:.0%} for {needs.quality.replace('_', ' ')} quality (give the share of hard requests to refine it)"
    rule = (
        f"Send about {share:.0%} of requests to the LLM ({source}): those a router flags as needing deep reasoning, "
        "creativity or broad knowledge, and those where the SLM's answer fails validation or its confidence is low. "
        "The rest run on the SLM."
    )
    return HybridSplit(round(share, 3), rule)


def recommend(needs: Needs, models, assumptions: CostAssumptions = CostAssumptions()) -> Recommendation:
    bar = QUALITY_BAR[needs.quality]
    reasons: list[tuple[float, Reason]] = []
    excluded: list[str] = []

    def because(weight: float, factor: str, favours: str, text: str) -> None:
        reasons.append((weight, Reason(factor, favours, text)))

    # --- Hard constraints: filters, not weights. ---------------------------------------------------
    hosted_banned = None
    if needs.offline:
        hosted_banned = "offline"
        because(9, "offline", "slm", "It must work offline, so hosted models are excluded: only models on your own hardware can run.")
    elif needs.privacy == "regulated":
        hosted_banned = "privacy"
        because(9, "privacy", "slm", "Your data is regulated and must never leave your machines, so hosted models are excluded.")
    if hosted_banned:
        excluded.append(f"hosted models: {'offline use' if hosted_banned == 'offline' else 'regulated data'}")
    no_api_money = needs.budget_usd_month == 0
    if no_api_money and not hosted_banned:
        excluded.append("paid hosted models: a budget of 0 leaves no money for per-token API spend")
        because(8, "budget_usd_month", "slm", "Your budget for API spend is 0, so paid hosted models are excluded.")

    slm_candidates, llm_candidates = [], []
    for model in models:
        if model.is_slm:
            if model.hosted and (hosted_banned or (no_api_money and model.paid)):
                continue
            slm_candidates.append(_hosted_candidate(model, needs, bar) if model.hosted else _local_candidate(model, needs, assumptions, bar))
        elif model.hosted:
            if hosted_banned or (no_api_money and model.paid):
                continue
            llm_candidates.append(_hosted_candidate(model, needs, bar))
        elif model.params_b is not None:
            llm_candidates.append(_local_candidate(model, needs, assumptions, bar))
    slm = _rank(slm_candidates, needs.quality)
    llm = _rank(llm_candidates, needs.quality)
    slm_fits = any(c.fits for c in slm)
    llm_available = any(c.fits for c in llm)

    # --- Soft factors. -------------------------------------------------------------------------------
    slm_score, llm_score = 0.5, 0.5

    lean = TASK_LEAN[needs.task]
    llm_score += lean
    slm_score -= lean
    if abs(lean) >= 0.05:
        because(abs(lean), "task", "llm" if lean > 0 else "slm", f"Task: {TASK_WORDS[needs.task]}.")

    llm_score += QUALITY_LEAN[needs.quality]
    slm_score -= QUALITY_LEAN[needs.quality]
    if needs.quality == "best":
        because(0.2, "quality", "llm", "You need the best quality available, which today means the largest models.")
    elif needs.quality == "good_enough":
        because(0.15, "quality", "slm", "Good-enough quality is within reach of small models.")

    if needs.complex_share is not None:
        llm_score += 0.3 * needs.complex_share
        slm_score -= 0.3 * needs.complex_share

    slm_score += LATENCY_SLM[needs.latency]
    llm_score += LATENCY_LLM[needs.latency]
    if needs.latency == "realtime":
        because(0.2, "latency", "slm", "Real-time answers (under a second to first token) are easiest with a small model close to the user; a hosted API adds network and queueing time.")

    slm_score += PRIVACY_SLM[needs.privacy]
    llm_score += PRIVACY_LLM[needs.privacy]
    if needs.privacy == "confidential":
        because(0.25, "privacy", "slm", "Your data is confidential: keeping it on your own hardware avoids sending it to a third party.")

    slm_score += TARGET_SLM[needs.hardware.target]
    if TARGET_SLM[needs.hardware.target]:
        because(0.15, "hardware", "slm", f"It runs on a {needs.hardware.target}: a small model can run on the device itself.")

    if needs.offline:
        slm_score += 0.2
    if needs.fine_tuning:
        slm_score += 0.2
        llm_score -= 0.15
        because(0.2, "fine_tuning", "slm", "You need to fine-tune on your own data: small open models are cheap to fine-tune and you keep the weights.")

    # Affordability of the cheapest hosted model at your volume, whether or not a constraint already
    # excludes hosted models: so more volume, less budget or stricter privacy can only lower the LLM score.
    hosted_prices = [(m.input_usd_per_mtok, m.output_usd_per_mtok) for m in models if m.hosted and not m.is_slm]
    if hosted_prices:
        cheapest = min(costs.hosted_monthly_usd(needs.requests_per_day, needs.input_tokens, needs.output_tokens, *prices) for prices in hosted_prices)
        if cheapest == 0:
            ratio = 0.0
        else:
            ratio = cheapest / needs.budget_usd_month if needs.budget_usd_month > 0 else math.inf
        affordability = 0.1 if ratio <= 0.5 else 0.0 if ratio <= 1 else -0.3 if ratio <= 3 else -0.5
        llm_score += affordability
        slm_score -= min(affordability, 0)  # an unaffordable API pushes towards own hardware
        if affordability < 0 and not no_api_money:
            because(abs(affordability), "requests_per_day", "slm",
                    f"At {needs.requests_per_day:,} requests a day even the cheapest hosted model costs about ${cheapest:,.0f} a month, over your ${needs.budget_usd_month:,.0f} budget for API spend.")
        elif affordability > 0 and cheapest > 0 and not hosted_banned:
            because(0.1, "budget_usd_month", "llm", f"Your ${needs.budget_usd_month:,.0f} budget easily covers hosted models at this volume (from ${cheapest:,.0f} a month).")

    # An SLM option needs a small model that fits and is good enough.
    best_slm_quality = max((c.quality_for_task for c in slm if c.fits), default=0.0)
    if not slm_fits:
        slm_score = min(slm_score, 0.15)
        because(0.5, "hardware", "llm", f"No small model in the catalogue fits {memory.available_gb(needs.hardware):.1f} GB of usable memory on this hardware.")
    elif best_slm_quality < bar:
        gap = bar - best_slm_quality
        slm_score -= min(0.4, 2 * gap)
        because(gap, "quality", "llm", f"The best small model that fits scores {best_slm_quality:.3f} for this task, under the {bar:.2f} that {needs.quality.replace('_', ' ')} quality needs.")

    if not llm_available:
        llm_score = 0.0
        if not hosted_banned:
            because(0.5, "budget_usd_month" if no_api_money else "hardware", "slm", "No large model is allowed by these answers and fits your hardware, so the LLM option is out.")

    slm_score, llm_score = _clamp(slm_score), _clamp(llm_score)

    # Hybrid: a mostly simple (or real-time) bulk with a hard tail; needs both sides to be possible.
    split = _hybrid_split(needs)
    if slm_fits and llm_available:
        mixed = 1 - abs(slm_score - llm_score)  # neither side dominates
        if needs.complex_share is None:
            tail_fit = 0.1  # an unknown share: a hard tail is likely but not stated
        else:
            tail_fit = 0.3 if 0.05 <= needs.complex_share <= 0.5 else 0.0
        # Routing costs effort; at very low volume it rarely pays.
        hybrid_score = _clamp(0.1 + 0.5 * mixed * min(slm_score, llm_score) + tail_fit - (0.1 if needs.requests_per_day < 100 else 0))
        if hybrid_score >= max(slm_score, llm_score):
            because(0.3, "complex_share", "hybrid", f"A mostly routine workload with a hard tail: {split.llm_share:.0%} to the LLM, the rest on the SLM.")
    else:
        hybrid_score = 0.0

    scores = {"slm": round(slm_score, 3), "llm": round(llm_score, 3), "hybrid": round(hybrid_score, 3)}
    verdict = max(("slm", "hybrid", "llm"), key=lambda option: scores[option])  # ties favour the earlier

    slm_cost = slm[0].monthly_cost_usd if slm else None
    llm_cost = llm[0].monthly_cost_usd if llm else None
    hybrid_cost = None
    if hybrid_score > 0 and slm_cost is not None and llm_cost is not None:
        hybrid_cost = slm_cost + split.llm_share * llm_cost
    curve, break_even = _cost_curve(needs, slm[0] if slm else None, llm[0] if llm else None, split, assumptions)

    ordered = tuple(reason for _, reason in sorted(reasons, key=lambda pair: -pair[0]))
    return Recommendation(
        verdict=verdict, scores=scores, reasons=ordered, candidates={"slm": slm, "llm": llm},
        monthly_cost_usd={"slm": slm_cost, "llm": llm_cost, "hybrid": hybrid_cost}, hybrid=split,
        cost_curve=curve, break_even_requests_per_day=break_even, excluded=tuple(excluded),
        assumptions=assumptions, estimate_formulas=memory.FORMULAS,
    )


def _cost_at(needs: Needs, requests: float, top_slm: Candidate | None, top_llm: Candidate | None, split: HybridSplit, assumptions: CostAssumptions) -> tuple[float | None, float | None, float | None]:
    def cost(candidate: Candidate | None):
        if candidate is None:
            return None
        if candidate.hosted:
            return costs.hosted_monthly_usd(requests, needs.input_tokens, needs.output_tokens, candidate.input_usd_per_mtok, candidate.output_usd_per_mtok)
        return costs.local_monthly_usd(requests, needs.input_tokens, needs.output_tokens, candidate.est_tokens_per_s,
                                       needs.hardware, needs.latency, assumptions)

    slm, llm = cost(top_slm), cost(top_llm)
    hybrid = slm + split.llm_share * llm if slm is not None and llm is not None else None
    return slm, llm, hybrid


def _cost_curve(needs, top_slm, top_llm, split, assumptions):
    grid = sorted({10 ** (k / 2) for k in range(2, 15)} | {max(needs.requests_per_day, 1)})
    points = tuple(CostPoint(round(r), *_cost_at(needs, r, top_slm, top_llm, split, assumptions)) for r in grid)
    break_even = None
    if top_slm is not None and top_llm is not None:
        # The smallest volume from which the SLM costs less than the LLM, on a fine log grid.
        for k in range(0, 161):
            requests = 10 ** (k / 20)
            slm, llm, _ = _cost_at(needs, requests, top_slm, top_llm, split, assumptions)
            if slm is not None and llm is not None and slm <= llm:
                break_even = requests if k else None
                break
    return points, break_even
