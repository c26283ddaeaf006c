"""From a team's needs to SLM, LLM or hybrid: scores, reasons, candidates, monthly costs.

Each answer moves the options' scores by a fixed, documented amount (so the engine is monotone in
each answer and easy to reason about); hard constraints remove options and models outright.
Local costs are shown but do not move the scores: they step with the number of machines, and a
score that followed them could not be monotone in volume.
"""

import math
from typing import Sequence

from . import costs, memory
from .types import Candidate, CostAssumptions, CostPoint, HybridSplit, ModelSpec, Needs, Reason, Recommendation

MAX_CANDIDATES = 5
# The quality for the task (0..1, MMLU-Pro-like) a model needs to meet each quality level.
QUALITY_BAR = {"good_enough": 0.5, "high": 0.68, "best": 0.85}
# Ties go to the simplest option to run: one small model, then both, then a large one.
TIE_ORDER = ("slm", "hybrid", "llm")
# A share of hard requests in this range makes routing worth its effort.
HYBRID_TAIL = (0.05, 0.5)

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
DEVICE_WORDS = {"phone": "a phone", "edge": "an edge device", "laptop": "a laptop"}
TARGET_SLM = {"phone": 0.15, "edge": 0.15, "laptop": 0.1, "workstation": 0.0, "server": 0.0, "cloud": 0.0}
COMPLEX_SHARE_WEIGHT = 0.3
# Speed a local model needs for each latency: real time is under a second to the first token (the
# CONTRACT); interactive answers should stream at least at reading speed (~5 tokens/s); batch waits.
REALTIME_FIRST_TOKEN_S = 1.0
INTERACTIVE_TOKENS_PER_S = 5.0
# Among models that meet the quality bar, those within 10 % of the cheapest count as equally cheap
# and the better one goes first: a few dollars should not buy a weaker model.
NEAR_CHEAPEST = 1.10
# Weight given to a hard constraint's reason, so that it is listed first.
HARD = 9


class _Reasons:
    """Reasons with a weight each; listed heaviest first."""

    def __init__(self):
        self._items: list[tuple[float, int, Reason]] = []

    def add(self, weight: float, factor: str, favours: str, text: str) -> None:
        self._items.append((weight, len(self._items), Reason(factor, favours, text)))

    def ordered(self) -> tuple[Reason, ...]:
        return tuple(reason for _, _, reason in sorted(self._items, key=lambda item: (-item[0], item[1])))


def _words(value: str) -> str:
    return value.replace("_", " ")


def _quality_text(quality: float) -> str:
    """Three decimals: two could show a score just under a bar as equal to it (0.848 → 0.85)."""
    return f"{quality:.3f}"


def _names(slugs: list[str], limit: int = 4) -> str:
    shown = ", ".join(slugs[:limit])
    return shown + (f" and {len(slugs) - limit} more" if len(slugs) > limit else "")


# --- Candidates -------------------------------------------------------------------------------------


def _first_token_s(needs: Needs, tokens_per_s: float, assumptions: CostAssumptions) -> float:
    """Time to read the prompt (prefill), at `prefill_speedup` times the generation speed."""
    return needs.input_tokens / (tokens_per_s * assumptions.prefill_speedup)


def _speed_check(needs: Needs, assumptions: CostAssumptions):
    """Whether one request's tokens/s meets the stated latency; None when any speed will do."""
    if needs.latency == "realtime":
        return lambda tokens_per_s: _first_token_s(needs, tokens_per_s, assumptions) <= REALTIME_FIRST_TOKEN_S
    if needs.latency == "interactive":
        return lambda tokens_per_s: tokens_per_s >= INTERACTIVE_TOKENS_PER_S
    return None


def _local_candidate(model: ModelSpec, needs: Needs, assumptions: CostAssumptions, bar: float) -> Candidate:
    fit = memory.best_fit(model, needs.hardware, needs.input_tokens, needs.output_tokens, assumptions.max_parallel_requests,
                          _speed_check(needs, assumptions))
    throughput = fit.throughput_tokens_per_s
    cost = costs.local_monthly_usd(needs.requests_per_day, needs.input_tokens, needs.output_tokens, throughput,
                                   needs.hardware, needs.latency, assumptions)
    machines = costs.machines_needed(costs.busy_hours_per_day(
        needs.requests_per_day, needs.input_tokens, needs.output_tokens, throughput, assumptions)) if throughput else None
    quality = model.quality_for(needs.task)
    notes = []
    if not fit.fits:
        notes.append(f"needs {fit.memory_gb} GB even at {fit.quantization}; about {fit.available_gb:.1f} GB is usable here")
    elif fit.quantization != fit.highest_fitting:
        notes.append(f"quantized to {fit.quantization} for speed ({fit.highest_fitting} would fit but is slower)")
    elif fit.quantization != "fp16":
        notes.append(f"quantized to {fit.quantization} to fit the {fit.available_gb:.1f} GB usable here")
    if fit.fits and fit.streams > 1:
        notes.append(f"serves about {fit.streams} requests at once, ≈{throughput:,.0f} tokens/s in all")
    if machines and machines > 1:
        notes.append(f"{machines} machines for {needs.requests_per_day:,} requests a day")
    if not fit.fast_enough and needs.latency == "realtime":
        first_token_s = _first_token_s(needs, fit.tokens_per_s, assumptions)
        notes.append(f"first token after ≈{first_token_s:.1f} s for a {needs.input_tokens:,}-token prompt: too slow for real time here")
    elif not fit.fast_enough:
        notes.append(f"≈{fit.tokens_per_s} tokens/s: slower than reading speed on this hardware")
    notes += _common_notes(model, quality, bar, needs)
    return Candidate(
        slug=model.slug, name=model.name, params_b=model.params_b, hosted=False, fits=fit.fits, memory_gb=fit.memory_gb,
        quantization=fit.quantization, est_tokens_per_s=fit.tokens_per_s, input_usd_per_mtok=model.input_usd_per_mtok,
        output_usd_per_mtok=model.output_usd_per_mtok, monthly_cost_usd=cost, quality_for_task=quality,
        meets_quality=quality >= bar, runnable_here=model.runnable_here, throughput_tokens_per_s=throughput,
        machines=machines, fast_enough=fit.fast_enough, notes=tuple(notes),
    )


def _hosted_candidate(model: ModelSpec, needs: Needs, bar: float) -> Candidate:
    cost = costs.hosted_monthly_usd(needs.requests_per_day, needs.input_tokens, needs.output_tokens,
                                    model.input_usd_per_mtok, model.output_usd_per_mtok)
    quality = model.quality_for(needs.task)
    notes = []
    if needs.privacy in ("internal", "confidential"):
        notes.append("runs on a third party's servers: your prompts leave your machines")
    if model.paid:
        per_request = costs.hosted_monthly_usd(1, needs.input_tokens, needs.output_tokens, model.input_usd_per_mtok,
                                               model.output_usd_per_mtok) / costs.DAYS_PER_MONTH
        notes.append(f"${per_request:.4f} per request")
    notes += _common_notes(model, quality, bar, needs)
    return Candidate(
        slug=model.slug, name=model.name, params_b=model.params_b, hosted=True, fits=True, memory_gb=None,
        quantization=None, est_tokens_per_s=None, input_usd_per_mtok=model.input_usd_per_mtok,
        output_usd_per_mtok=model.output_usd_per_mtok, monthly_cost_usd=cost, quality_for_task=quality,
        meets_quality=quality >= bar, runnable_here=model.runnable_here, notes=tuple(notes),
    )


def _common_notes(model: ModelSpec, quality: float, bar: float, needs: Needs) -> list[str]:
    notes = []
    if quality < bar:
        notes.append(f"scores {_quality_text(quality)} for {_words(needs.task)}, under the {bar:.2f} that {_words(needs.quality)} quality needs")
    if model.runnable_here:
        notes.append("can be tried on this installation now")
    return notes


def _rank(candidates: list[Candidate], quality: str, prefer_local: bool) -> tuple[Candidate, ...]:
    """Best first: those that fit (for SLMs, on the user's own hardware first), then those that meet
    the quality bar, then those fast enough for the latency. Among models that meet the bar the
    cheapest wins (the best of those within 10 % of the cheapest), unless the user asked for the
    best, when the best wins. Below the bar, the best quality wins."""
    def group(c: Candidate):
        return (not c.fits, prefer_local and c.hosted, not c.meets_quality, not c.fast_enough)

    def cost(c: Candidate) -> float:
        return c.monthly_cost_usd if c.monthly_cost_usd is not None else math.inf

    cheapest: dict[tuple, float] = {}
    for c in candidates:
        cheapest[group(c)] = min(cheapest.get(group(c), math.inf), cost(c))

    def key(c: Candidate):
        by_cost = c.meets_quality and quality != "best"
        near = by_cost and cost(c) <= NEAR_CHEAPEST * cheapest[group(c)]
        return (*group(c), not near, cost(c) if by_cost and not near else 0.0, -c.quality_for_task, cost(c), c.slug)

    return tuple(sorted(candidates, key=key)[:MAX_CANDIDATES])


# --- Hard constraints: filters, not weights ---------------------------------------------------------


def _select(needs: Needs, models: Sequence[ModelSpec], assumptions: CostAssumptions, bar: float,
            reasons: _Reasons, excluded: list[str]) -> tuple[tuple[Candidate, ...], tuple[Candidate, ...], bool, bool]:
    """SLM and LLM candidates after the hard constraints; returns them with (hosted banned, no API money)."""
    bans = []
    if needs.offline:
        bans.append("it must work offline")
        reasons.add(HARD, "offline", "slm", "It must work offline, so hosted models are excluded: only models on your own hardware can run.")
    if needs.privacy == "regulated":
        bans.append("regulated data must never leave your machines")
        reasons.add(HARD, "privacy", "slm", "Your data is regulated and must never leave your machines, so hosted models are excluded.")
    hosted_banned = bool(bans)
    no_api_money = needs.budget_usd_month == 0

    slm, llm, banned, unpaid, unknown = [], [], [], [], []
    for model in models:
        if model.hosted and hosted_banned:
            banned.append(model.slug)
            continue
        if model.hosted and no_api_money and model.paid:
            unpaid.append(model.slug)
            continue
        if not model.hosted and model.params_b is None:
            unknown.append(model.slug)  # its memory cannot be estimated
            continue
        candidate = _hosted_candidate(model, needs, bar) if model.hosted else _local_candidate(model, needs, assumptions, bar)
        (slm if model.is_slm else llm).append(candidate)

    if hosted_banned:
        excluded.append(f"hosted models excluded because {' and '.join(bans)}" + (f": {_names(banned)}" if banned else ""))
    if no_api_money and not hosted_banned:
        excluded.append("paid hosted models excluded: a budget of 0 leaves no money for per-token API spend" + (f": {_names(unpaid)}" if unpaid else ""))
        reasons.add(8, "budget_usd_month", "slm", "Your budget for API spend is 0, so paid hosted models are excluded.")
    if unknown:
        excluded.append(f"local models without a parameter count (memory cannot be estimated): {_names(unknown)}")
    return _rank(slm, needs.quality, prefer_local=True), _rank(llm, needs.quality, prefer_local=False), hosted_banned, no_api_money


# --- Soft factors -----------------------------------------------------------------------------------


def _soft_scores(needs: Needs, models: Sequence[ModelSpec], reasons: _Reasons, hosted_banned: bool, no_api_money: bool) -> tuple[float, float]:
    slm_score, llm_score = 0.5, 0.5

    lean = TASK_LEAN[needs.task]
    llm_score += lean
    slm_score -= lean
    if abs(lean) >= 0.05:
        reasons.add(abs(lean), "task", "llm" if lean > 0 else "slm", f"Task: {TASK_WORDS[needs.task]}.")

    llm_score += QUALITY_LEAN[needs.quality]
    slm_score -= QUALITY_LEAN[needs.quality]
    if needs.quality == "best":
        reasons.add(0.2, "quality", "llm", "You need the best quality available, which today means the largest models.")
    elif needs.quality == "good_enough":
        reasons.add(0.15, "quality", "slm", "Good-enough quality is within reach of small models.")

    if needs.complex_share is not None:
        share = needs.complex_share
        llm_score += COMPLEX_SHARE_WEIGHT * share
        slm_score -= COMPLEX_SHARE_WEIGHT * share
        if share > HYBRID_TAIL[1]:
            reasons.add(COMPLEX_SHARE_WEIGHT * share, "complex_share", "llm",
                        f"About {share:.0%} of your requests need deep reasoning or creativity: most of the work is the large model's.")
        elif share < HYBRID_TAIL[0]:
            reasons.add(0.1, "complex_share", "slm", f"Only {share:.0%} of your requests are hard: a small model can carry almost all of them.")

    slm_score += LATENCY_SLM[needs.latency]
    llm_score += LATENCY_LLM[needs.latency]
    if needs.latency == "realtime":
        reasons.add(0.2, "latency", "slm", "Real-time answers (under a second to first token) are easiest with a small model close to the user; a hosted API adds network and queueing time.")

    slm_score += PRIVACY_SLM[needs.privacy]
    llm_score += PRIVACY_LLM[needs.privacy]
    if needs.privacy == "confidential":
        reasons.add(0.25, "privacy", "slm", "Your data is confidential: keeping it on your own hardware avoids sending it to a third party.")

    slm_score += TARGET_SLM[needs.hardware.target]
    if TARGET_SLM[needs.hardware.target]:
        reasons.add(0.15, "hardware", "slm", f"It runs on {DEVICE_WORDS[needs.hardware.target]}: a small model can run on the device itself.")

    if needs.offline:
        slm_score += 0.2
    if needs.fine_tuning:
        slm_score += 0.2
        llm_score -= 0.15
        reasons.add(0.2, "fine_tuning", "slm", "You need to fine-tune on your own data: small open models are cheap to fine-tune and you keep the weights.")

    affordability, cheapest = _affordability(needs, models)
    llm_score += affordability
    slm_score -= min(affordability, 0)  # an unaffordable API pushes towards own hardware
    if affordability < 0 and not no_api_money:
        reasons.add(abs(affordability), "requests_per_day", "slm",
                    f"At {needs.requests_per_day:,} requests a day even the cheapest hosted model costs about ${cheapest:,.0f} a month, over your ${needs.budget_usd_month:,.0f} budget for API spend.")
    elif affordability > 0 and cheapest > 0 and not hosted_banned:
        reasons.add(0.1, "budget_usd_month", "llm", f"Your ${needs.budget_usd_month:,.0f} budget easily covers hosted models at this volume (from ${cheapest:,.0f} a month).")
    return slm_score, llm_score


def _affordability(needs: Needs, models: Sequence[ModelSpec]) -> tuple[float, float]:
    """How the cheapest hosted LLM's bill compares with the budget: counted whether or not a hard
    constraint excludes hosted models, so that more volume, less budget or stricter privacy can only
    lower the LLM score."""
    bills = [costs.hosted_monthly_usd(needs.requests_per_day, needs.input_tokens, needs.output_tokens, m.input_usd_per_mtok, m.output_usd_per_mtok)
             for m in models if m.hosted and not m.is_slm]
    if not bills:
        return 0.0, 0.0
    cheapest = min(bills)
    if cheapest == 0:
        ratio = 0.0
    else:
        ratio = cheapest / needs.budget_usd_month if needs.budget_usd_month > 0 else math.inf
    affordability = 0.1 if ratio <= 0.5 else 0.0 if ratio <= 1 else -0.3 if ratio <= 3 else -0.5
    return affordability, cheapest


def _hybrid_split(needs: Needs, top_slm: Candidate | None, top_llm: Candidate | None) -> HybridSplit:
    if needs.complex_share is not None:
        share = needs.complex_share
        source = f"your estimate that {share:.0%} of requests are hard"
    else:
        share = {"good_enough": 0.1, "high": 0.2, "best": 0.3}[needs.quality]
        source = f"a default of {share:.0%} for {_words(needs.quality)} quality (give the share of hard requests to refine it)"
    llm = f"the LLM ({top_llm.name})" if top_llm else "the LLM"
    slm = f"the SLM ({top_slm.name})" if top_slm else "the SLM"
    rule = (
        f"Send about {share:.0%} of requests to {llm} ({source}): those a router flags as needing deep reasoning, "
        "creativity or broad knowledge, and those where the SLM's answer fails validation or its confidence is low. "
        f"The rest run on {slm}."
    )
    return HybridSplit(round(share, 3), rule)


def _hybrid_score(needs: Needs, slm_score: float, llm_score: float) -> float:
    """A mostly simple (or real-time) bulk with a hard tail, where neither side dominates."""
    mixed = 1 - abs(slm_score - llm_score)
    if needs.complex_share is None:
        tail_fit = 0.1  # an unknown share: a hard tail is likely but not stated
    else:
        tail_fit = 0.3 if HYBRID_TAIL[0] <= needs.complex_share <= HYBRID_TAIL[1] else 0.0
    low_volume = 0.1 if needs.requests_per_day < 100 else 0.0  # routing costs effort; at low volume it rarely pays
    return _clamp(0.1 + 0.5 * mixed * min(slm_score, llm_score) + tail_fit - low_volume)


def _clamp(value: float) -> float:
    return max(0.0, min(1.0, value))


# --- The engine -------------------------------------------------------------------------------------


def recommend(needs: Needs, models: Sequence[ModelSpec], assumptions: CostAssumptions = CostAssumptions()) -> Recommendation:
    models = tuple(models)
    bar = QUALITY_BAR[needs.quality]
    reasons = _Reasons()
    excluded: list[str] = []

    slm, llm, hosted_banned, no_api_money = _select(needs, models, assumptions, bar, reasons, excluded)
    slm_fits = any(c.fits for c in slm)
    llm_available = any(c.fits for c in llm)

    slm_score, llm_score = _soft_scores(needs, models, reasons, hosted_banned, no_api_money)

    # An SLM option needs a small model that fits and is good enough.
    best_slm_quality = max((c.quality_for_task for c in slm if c.fits), default=0.0)
    if not slm_fits:
        slm_score = min(slm_score, 0.15)
        reasons.add(0.5, "hardware", "llm", f"No small model in the catalogue fits the {memory.available_gb(needs.hardware):.1f} GB of usable memory on this hardware.")
    elif best_slm_quality < bar:
        gap = bar - best_slm_quality
        slm_score -= min(0.4, 2 * gap)
        reasons.add(gap, "quality", "llm", f"The best small model that fits scores {_quality_text(best_slm_quality)} for {_words(needs.task)}, under the {bar:.2f} that {_words(needs.quality)} quality needs.")

    # An LLM option needs a large model that is allowed and, if local, fits.
    if not llm_available:
        llm_score = 0.0
        if hosted_banned and llm:
            reasons.add(1, "hardware", "slm", f"No open model above 15B parameters fits the {memory.available_gb(needs.hardware):.1f} GB usable on your own hardware, so neither an LLM nor a hybrid is possible here.")
        elif hosted_banned:
            reasons.add(1, "hardware", "slm", "With hosted models excluded, the catalogue has no open model above 15B parameters to run on your own hardware, so neither an LLM nor a hybrid is possible here.")
        else:
            reasons.add(0.5, "budget_usd_month" if no_api_money else "hardware", "slm", "No large model is allowed by these answers and fits your hardware, so the LLM option is out.")

    slm_score, llm_score = _clamp(slm_score), _clamp(llm_score)

    top_slm, top_llm = (slm[0] if slm else None), (llm[0] if llm else None)
    split = _hybrid_split(needs, top_slm, top_llm)
    hybrid_possible = slm_fits and llm_available
    hybrid_score = _hybrid_score(needs, slm_score, llm_score) if hybrid_possible else 0.0
    if hybrid_possible and needs.complex_share is not None and HYBRID_TAIL[0] <= needs.complex_share <= HYBRID_TAIL[1]:
        wins = hybrid_score >= max(slm_score, llm_score)
        reasons.add(0.3 if wins else 0.05, "complex_share", "hybrid",
                    f"About {needs.complex_share:.0%} of your requests are hard and the rest routine: route the hard ones to the LLM and keep the bulk on the SLM.")
    elif hybrid_possible and hybrid_score >= max(slm_score, llm_score):
        reasons.add(0.3, "complex_share", "hybrid", f"Neither option dominates: a small model for the routine bulk, with about {split.llm_share:.0%} sent to the LLM.")

    scores = {"slm": round(slm_score, 3), "llm": round(llm_score, 3), "hybrid": round(hybrid_score, 3)}
    verdict = max(TIE_ORDER, key=lambda option: scores[option])  # max keeps the first of equals

    # The CONTRACT: the top-level cost of each option is its first candidate's (hybrid: the split's).
    slm_cost = top_slm.monthly_cost_usd if top_slm else None
    llm_cost = top_llm.monthly_cost_usd if top_llm else None
    hybrid_cost = _cost_at(needs, needs.requests_per_day, top_slm, top_llm, split, assumptions)[2]
    if not hybrid_possible:
        hybrid_cost = None
    curve, break_even = _cost_curve(needs, top_slm, top_llm, split, assumptions, hybrid_possible)

    return Recommendation(
        verdict=verdict, scores=scores, reasons=reasons.ordered(), candidates={"slm": slm, "llm": llm},
        monthly_cost_usd={"slm": slm_cost, "llm": llm_cost, "hybrid": hybrid_cost}, hybrid=split,
        cost_curve=curve, break_even_requests_per_day=break_even, excluded=tuple(excluded),
        assumptions=assumptions, estimate_formulas=memory.FORMULAS | {f"cost_{k}": v for k, v in costs.FORMULAS.items()},
        local_machine=assumptions.machine(needs.hardware), local_cost_basis=costs.local_cost_basis(needs.hardware, assumptions),
    )


# --- Costs at other volumes -------------------------------------------------------------------------


def _candidate_cost(needs: Needs, requests: float, candidate: Candidate | None, assumptions: CostAssumptions) -> float | None:
    if candidate is None:
        return None
    if candidate.hosted:
        return costs.hosted_monthly_usd(requests, needs.input_tokens, needs.output_tokens, candidate.input_usd_per_mtok, candidate.output_usd_per_mtok)
    return costs.local_monthly_usd(requests, needs.input_tokens, needs.output_tokens, candidate.throughput_tokens_per_s,
                                   needs.hardware, needs.latency, assumptions)


def _cost_at(needs: Needs, requests: float, top_slm: Candidate | None, top_llm: Candidate | None, split: HybridSplit,
             assumptions: CostAssumptions) -> tuple[float | None, float | None, float | None]:
    slm = _candidate_cost(needs, requests, top_slm, assumptions)
    llm = _candidate_cost(needs, requests, top_llm, assumptions)
    hybrid = costs.hybrid_monthly_usd(slm, _candidate_cost(needs, requests * split.llm_share, top_llm, assumptions))
    return slm, llm, hybrid


def _cost_curve(needs: Needs, top_slm: Candidate | None, top_llm: Candidate | None, split: HybridSplit,
                assumptions: CostAssumptions, hybrid_possible: bool) -> tuple[tuple[CostPoint, ...], float | None]:
    # 100 to 10 million requests a day, two points a decade, plus the user's own volume.
    grid = sorted({round(10 ** (k / 2)) for k in range(4, 15)} | {max(needs.requests_per_day, 1)})
    points = []
    for requests in grid:
        slm, llm, hybrid = _cost_at(needs, requests, top_slm, top_llm, split, assumptions)
        points.append(CostPoint(requests, slm, llm, hybrid if hybrid_possible else None))
    return tuple(points), _break_even(needs, top_slm, top_llm, assumptions)


def _break_even(needs: Needs, top_slm: Candidate | None, top_llm: Candidate | None, assumptions: CostAssumptions) -> float | None:
    """The smallest volume (1 to 100 million a day, 20 steps a decade) from which the SLM costs no more
    than the LLM; None when there is no crossing: the SLM is never cheaper, or always is."""
    if top_slm is None or top_llm is None:
        return None
    for k in range(0, 161):
        requests = 10 ** (k / 20)
        slm = _candidate_cost(needs, requests, top_slm, assumptions)
        llm = _candidate_cost(needs, requests, top_llm, assumptions)
        if slm is not None and llm is not None and slm <= llm:
            return requests if k else None
    return None
