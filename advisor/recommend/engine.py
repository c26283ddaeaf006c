"""From a team's needs to SLM, LLM or hybrid: scores, reasons, candidates, monthly costs.

Each answer moves the options' scores by a fixed, documented amount (so the engine is monotone in
each answer and easy to reason about); hard constraints remove options and models outright.
Total cost counts too, but only in the SLM's score: running it yourself against the cheapest hosted
model that meets the bar (see _cost_factor), so that the LLM's score stays monotone in budget,
volume, privacy and quality.
"""

import functools
import math
import re
from dataclasses import replace
from typing import Sequence

from . import costs, memory
from .types import OPTIONS, Candidate, CostAssumptions, CostPoint, HybridSplit, ModelSpec, Needs, Reason, Recommendation

MAX_CANDIDATES = 5
# The quality for the task (0..1, MMLU-Pro-like) a model needs to meet each quality level.
QUALITY_BAR = {"good_enough": 0.5, "high": 0.68, "best": 0.85}
# Equal scores go to the cheaper option; at equal cost too, to the simplest to run: one small model,
# then both, then a large one.
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
# CONTRACT); interactive answers start within 10 s (the limit of a user's attention, Nielsen) and
# stream at least at reading speed (~5 tokens/s); batch waits.
REALTIME_FIRST_TOKEN_S = 1.0
INTERACTIVE_FIRST_TOKEN_S = 10.0
INTERACTIVE_TOKENS_PER_S = 5.0
# On a phone or edge device every model that meets the bar and the latency is good enough; the smaller
# one then wins (battery, memory left for the app, speed).
DEVICES = ("phone", "edge")
# Quality within this of another's counts as about the same (benchmark noise is ±1-2 points).
SAME_QUALITY = 0.02
# A margin over the bar under this is narrow: said beside the score.
NARROW_MARGIN = 0.03
# The hybrid's tail model must beat the SLM on the task by at least this.
TAIL_MARGIN = 0.03
# Local against hosted cost moves the SLM's score by this much per doubling, at most COST_CAP.
COST_WEIGHT_PER_DOUBLING = 0.1
COST_CAP = 0.3
COST_BONUS_CAP = 0.15
# Benchmarks that measure each task; a score from any other source is a proxy for it.
FITTING_SOURCES = {
    "reasoning": ("MMLU-Pro", "GPQA", "BBH", "BIG-Bench"),
    "code": ("HumanEval", "MBPP", "LiveCodeBench", "SWE-bench"),
    "research": ("MMLU", "GPQA", "SimpleQA"),
    "chat": ("MMLU", "Arena", "MT-Bench", "IFEval"),
    "translation": ("MMMLU", "Global-MMLU", "Global MMLU", "FLORES", "WMT"),
}
# Among models that meet the quality bar, those within 10 % of the cheapest count as equally cheap
# and the better one goes first: a few dollars should not buy a weaker model.
NEAR_CHEAPEST = 1.10
# Weight given to a hard constraint's reason, so that it is listed first.
HARD = 9


class _Reasons:
    """Reasons with a weight each (how much they moved the scores; a hard constraint: 1, it removes
    options); listed heaviest first, hard constraints before everything."""

    def __init__(self):
        self._items: list[tuple[float, int, Reason]] = []

    def add(self, weight: float, factor: str, favours: str, text: str) -> None:
        shown = 1.0 if weight >= HARD else round(min(weight, 1.0), 3)
        self._items.append((weight, len(self._items), Reason(factor, favours, text, shown)))

    def ordered(self, verdict: str) -> tuple[Reason, ...]:
        """Heaviest first, but the first is always one that favours the verdict."""
        reasons = [reason for _, _, reason in sorted(self._items, key=lambda item: (-item[0], item[1]))]
        first = next((r for r in reasons if r.favours == verdict), None)
        if first is not None:
            reasons.remove(first)
            reasons.insert(0, first)
        return tuple(reasons)

    def first_for(self, verdict: str) -> Reason | None:
        return next((r for r in self.ordered(verdict) if r.favours == verdict), None)


def _words(value: str) -> str:
    return value.replace("_", " ")


def _quality_text(quality: float) -> str:
    """Three decimals: two could show a score just under a bar as equal to it (0.848 → 0.85)."""
    return f"{quality:.3f}"


def _names(slugs: list[str], limit: int = 4) -> str:
    shown = ", ".join(slugs[:limit])
    return shown + (f" and {len(slugs) - limit} more" if len(slugs) > limit else "")


# --- Candidates -------------------------------------------------------------------------------------


def _fast_enough_for_realtime(tokens_per_s: float, first_token_s: float) -> bool:
    return first_token_s <= REALTIME_FIRST_TOKEN_S


def _fast_enough_for_interactive(tokens_per_s: float, first_token_s: float) -> bool:
    return tokens_per_s >= INTERACTIVE_TOKENS_PER_S and first_token_s <= INTERACTIVE_FIRST_TOKEN_S


# Whether one request's (tokens/s, first-token seconds) meets the stated latency; batch: any speed.
SPEED_CHECKS = {"realtime": _fast_enough_for_realtime, "interactive": _fast_enough_for_interactive}


def _local_name(model: ModelSpec) -> str:
    """A hosted open model's name without its provider, run on the user's hardware."""
    return re.sub(r"\s*\([^)]*\)$", "", model.name) + " (on your hardware)"


@functools.lru_cache(maxsize=1024)
def _on_own_hardware(model: ModelSpec) -> ModelSpec:
    """A hosted open-weights model as run on the user's hardware: no per-token price, no provider's extras."""
    return replace(model, hosted=False, name=_local_name(model), input_usd_per_mtok=0.0, output_usd_per_mtok=0.0,
                   runnable_here=False, reasoning_tokens=0, batch_discount=0.0, batch_discount_source="")


def _fit(model: ModelSpec, needs: Needs, assumptions: CostAssumptions) -> memory.Fit:
    check = SPEED_CHECKS.get(needs.latency)
    if check:
        return memory.best_fit(model, needs.hardware, needs.input_tokens, needs.output_tokens, assumptions.max_parallel_requests, check)
    return memory.best_fit_any_speed(model, needs.hardware, needs.input_tokens, needs.output_tokens, assumptions.max_parallel_requests)


def _local_candidate(model: ModelSpec, needs: Needs, local_cost, bar: float, fit: memory.Fit) -> Candidate:
    """The figures the ranking needs, without the notes and cost formula in words, which only the few
    candidates shown get (in recommend). `local_cost`: costs.local_cost_model for the needs."""
    seconds = fit.seconds_per_request
    cost = local_cost(seconds, needs.requests_per_day) if seconds is not None else None
    busy = costs.busy_hours_per_day(needs.requests_per_day, seconds) if seconds is not None else None
    machines = costs.machines_needed(busy) if busy is not None else None
    quality = model.quality_for(needs.task)
    source = model.quality_source_for(needs.task)
    return Candidate(
        slug=model.slug, name=model.name, params_b=model.params_b, hosted=False, fits=fit.fits, memory_gb=fit.memory_gb,
        quantization=fit.quantization, est_tokens_per_s=fit.tokens_per_s, input_usd_per_mtok=model.input_usd_per_mtok,
        output_usd_per_mtok=model.output_usd_per_mtok, monthly_cost_usd=cost, quality_for_task=quality,
        meets_quality=quality >= bar, runnable_here=model.runnable_here, throughput_tokens_per_s=fit.throughput_tokens_per_s,
        machines=machines, fast_enough=fit.fast_enough, quality_source=source,
        quality_is_proxy=_is_proxy(needs.task, source), quality_level=needs.quality, quality_bar=bar,
        first_token_s=round(fit.first_token_s, 2) if fit.first_token_s is not None else None,
        busy_hours_per_day=busy, machine_seconds_per_request=seconds,
    )


def _local_words(model: ModelSpec, fit: memory.Fit, needs: Needs, quality: float, bar: float, cost: float | None,
                 busy: float | None, machines: int | None) -> tuple[tuple[str, ...], str]:
    """A local candidate's notes and cost formula."""
    seconds = fit.seconds_per_request
    notes = []
    if not fit.fits:
        notes.append(f"needs {fit.memory_gb} GB even at {fit.quantization}; about {fit.available_gb:.1f} GB is usable here")
    elif fit.quantization != fit.highest_fitting:
        notes.append(f"quantized to {fit.quantization} for speed ({fit.highest_fitting} would fit but is slower)")
    elif fit.quantization != "fp16":
        notes.append(f"quantized to {fit.quantization} to fit the {fit.available_gb:.1f} GB usable here")
    if fit.fits and fit.gpus > 1:
        notes.append(f"split across {fit.gpus} GPUs")
    if fit.fits and fit.replicas > 1:
        notes.append(f"{fit.replicas} copies, one per {fit.gpus} GPU{'s' if fit.gpus > 1 else ''}")
    if fit.fits and fit.streams > 1:
        notes.append(f"serves about {fit.streams} requests at once, ≈{fit.throughput_tokens_per_s:,.0f} tokens/s in all")
    if fit.fits and busy is not None and needs.requests_per_day:
        machine_words = f"{machines} machines" if machines > 1 else "one machine"
        notes.append(f"{machine_words} busy {busy:,.1f} h a day in all for {needs.requests_per_day:,} requests ({seconds:.3g} s of machine time each)")
    if fit.fits and not fit.fast_enough and needs.latency in ("realtime", "interactive"):
        limit = REALTIME_FIRST_TOKEN_S if needs.latency == "realtime" else INTERACTIVE_FIRST_TOKEN_S
        if fit.first_token_s > limit:
            notes.append(f"first token after ≈{fit.first_token_s:.1f} s for a {needs.input_tokens:,}-token prompt: too slow for {'real time' if needs.latency == 'realtime' else 'interactive use'} (over {limit:g} s) here")
        else:
            notes.append(f"≈{fit.tokens_per_s} tokens/s: slower than reading speed on this hardware")
    notes += _common_notes(model, quality, bar, needs)
    if quality >= bar and fit.quantization in ("q4_k_m", "q5_k_m"):
        notes.append(f"the score is the full-precision model's; at {fit.quantization} expect a little less")
    cost_formula = ""
    if cost is not None:
        cost_formula = f"{machines} × machine cost, busy {busy:,.1f} h a day: {costs.FORMULAS['cloud' if needs.hardware.target == 'cloud' else 'local']}"
    return tuple(notes), cost_formula


def _price_factor(model: ModelSpec, needs: Needs) -> float:
    return 1 - model.batch_discount if needs.latency == "batch" and model.batch_discount > 0 else 1.0


def _hosted_cost(model: ModelSpec, needs: Needs, requests: float) -> float:
    return costs.hosted_monthly_usd(requests, needs.input_tokens, needs.output_tokens + model.reasoning_tokens,
                                    model.input_usd_per_mtok, model.output_usd_per_mtok, _price_factor(model, needs))


def _hosted_candidate(model: ModelSpec, needs: Needs, bar: float) -> Candidate:
    """The figures the ranking needs, without the words (written for those shown, in recommend)."""
    cost = _hosted_cost(model, needs, needs.requests_per_day)
    quality = model.quality_for(needs.task)
    source = model.quality_source_for(needs.task)
    factor = _price_factor(model, needs)
    billed = needs.output_tokens + model.reasoning_tokens
    within = cost <= needs.budget_usd_month or not model.paid
    return Candidate(
        slug=model.slug, name=model.name, params_b=model.params_b, hosted=True, fits=True, memory_gb=None,
        quantization=None, est_tokens_per_s=None, input_usd_per_mtok=model.input_usd_per_mtok,
        output_usd_per_mtok=model.output_usd_per_mtok, monthly_cost_usd=cost, quality_for_task=quality,
        meets_quality=quality >= bar, runnable_here=model.runnable_here, quality_source=source,
        quality_is_proxy=_is_proxy(needs.task, source), quality_level=needs.quality, quality_bar=bar,
        within_budget=within, billed_output_tokens=billed, price_factor=factor,
    )


def _hosted_words(model: ModelSpec, needs: Needs, quality: float, bar: float, cost: float, factor: float, billed: int,
                  within: bool) -> tuple[tuple[str, ...], str]:
    """A hosted candidate's notes and cost formula."""
    notes = []
    if needs.privacy in ("internal", "confidential"):
        notes.append("runs on a third party's servers: your prompts leave your machines")
    if model.paid:
        notes.append(f"${cost / costs.DAYS_PER_MONTH / max(needs.requests_per_day, 1):.4f} per request" if needs.requests_per_day
                     else f"${_hosted_cost(model, needs, 1) / costs.DAYS_PER_MONTH:.4f} per request")
    if model.reasoning_tokens:
        notes.append(f"bills about {model.reasoning_tokens:,} hidden reasoning tokens per request as output"
                     + (f" ({model.reasoning_tokens_source})" if model.reasoning_tokens_source else ""))
    if factor < 1:
        notes.append(f"{model.batch_discount:.0%} batch-API discount for batch work"
                     + (f" ({model.batch_discount_source})" if model.batch_discount_source else ""))
    if not within:
        notes.append(f"over your ${needs.budget_usd_month:,.0f} budget")
    notes += _common_notes(model, quality, bar, needs)
    formula = (f"{needs.requests_per_day:,} × 30 × ({needs.input_tokens:,} × ${model.input_usd_per_mtok:g} + {billed:,} × ${model.output_usd_per_mtok:g})"
               f" ÷ 1,000,000" + (f" × {factor:g}" if factor < 1 else ""))
    return tuple(notes), formula


@functools.lru_cache(maxsize=1024)
def _is_proxy(task: str, source: str) -> bool:
    """A score whose stated source does not measure the task (an unstated source is not judged)."""
    if not source:
        return False
    return not any(name.lower() in source.lower() for name in FITTING_SOURCES.get(task, ()))


def _common_notes(model: ModelSpec, quality: float, bar: float, needs: Needs) -> list[str]:
    notes = []
    source = model.quality_source_for(needs.task)
    if quality < bar:
        notes.append(f"scores {_quality_text(quality)} for {_words(needs.task)}, under the {bar:.2f} that {_words(needs.quality)} quality needs")
    elif quality - bar < NARROW_MARGIN:
        notes.append(f"meets the {bar:.2f} bar by a narrow margin ({_quality_text(quality)})")
    if quality >= bar and _is_proxy(needs.task, source):
        notes.append(f"meets the bar only by a proxy: {source} does not measure {_words(needs.task)}")
    if model.runnable_here:
        notes.append("can be tried on this installation now")
    return notes


def _monthly_cost(c: Candidate) -> float:
    """A candidate's monthly cost for ordering: one that cannot be costed goes last."""
    return c.monthly_cost_usd if c.monthly_cost_usd is not None else math.inf


def _rank(candidates: list[Candidate], quality: str, prefer_local: bool, device: bool = False) -> tuple[Candidate, ...]:
    """Best first: those that fit (for SLMs, on the user's own hardware first), then those that meet
    the quality bar, then those fast enough for the latency. Among models that meet the bar the
    cheapest wins (the best of those within 10 % of the cheapest), unless the user asked for the
    best, when the best wins, an over-budget model only when it is more than SAME_QUALITY better.
    On a phone or edge device, among those that meet the bar and are fast enough, the smallest wins.
    Below the bar, the best quality wins."""
    def group(c: Candidate):
        return (not c.fits, prefer_local and c.hosted, not c.meets_quality, not c.fast_enough)

    cheapest: dict[tuple, float] = {}
    for c in candidates:
        cheapest[group(c)] = min(cheapest.get(group(c), math.inf), _monthly_cost(c))

    def key(c: Candidate):
        if device and c.meets_quality and c.fast_enough and not c.hosted:
            return (*group(c), False, c.memory_gb or 0.0, -c.quality_for_task, _monthly_cost(c), c.slug)
        by_cost = c.meets_quality and quality != "best"
        near = by_cost and _monthly_cost(c) <= NEAR_CHEAPEST * cheapest[group(c)]
        ranked_quality = c.quality_for_task - (0 if c.within_budget else SAME_QUALITY + 1e-9)
        return (*group(c), not near, _monthly_cost(c) if by_cost and not near else 0.0, -ranked_quality, _monthly_cost(c), c.slug)

    return tuple(sorted(candidates, key=key))


# --- Hard constraints: filters, not weights ---------------------------------------------------------


def _select(needs: Needs, models: Sequence[ModelSpec], assumptions: CostAssumptions, bar: float,
            reasons: _Reasons, excluded: list[str], sources: dict) -> tuple[tuple[Candidate, ...], tuple[Candidate, ...], bool, bool]:
    """SLM and LLM candidates after the hard constraints; returns them with (hosted banned, no API money).
    `sources` gets each candidate's (model, fit; None for hosted), for the notes of those shown."""
    bans = []
    if needs.offline:
        bans.append("it must work offline")
        reasons.add(HARD, "offline", "slm", "It must work offline, so hosted models are excluded: only models on your own hardware can run.")
    if needs.privacy == "regulated":
        bans.append("regulated data must never leave your machines")
        reasons.add(HARD, "privacy", "slm", "Your data is regulated and must never leave your machines, so hosted models are excluded.")
    hosted_banned = bool(bans)
    no_api_money = needs.budget_usd_month == 0
    local_cost = costs.local_cost_model(needs.hardware, needs.latency, assumptions)

    slm, llm, banned, unpaid, unknown = [], [], [], [], []
    for model in models:
        if model.hosted and model.open_weights and model.params_b is not None:
            # Open weights can run on the user's hardware, whoever also hosts them.
            own = _on_own_hardware(model)
            fit = _fit(own, needs, assumptions)
            # Shown when it fits, or when it is the only way to have this model (hosted ones are excluded).
            if fit.fits or hosted_banned:
                candidate = _local_candidate(own, needs, local_cost, bar, fit)
                sources[id(candidate)] = own, fit
                (slm if own.is_slm else llm).append(candidate)
        if model.hosted and hosted_banned:
            banned.append(model.slug)
            continue
        if model.hosted and no_api_money and model.paid:
            unpaid.append(model.slug)
            continue
        if not model.hosted and model.params_b is None:
            unknown.append(model.slug)  # its memory cannot be estimated
            continue
        fit = None if model.hosted else _fit(model, needs, assumptions)
        candidate = _hosted_candidate(model, needs, bar) if fit is None else _local_candidate(model, needs, local_cost, bar, fit)
        sources[id(candidate)] = model, fit
        (slm if model.is_slm else llm).append(candidate)

    if hosted_banned:
        excluded.append(f"hosted models excluded because {' and '.join(bans)}" + (f": {_names(banned)}" if banned else ""))
    if no_api_money and not hosted_banned:
        excluded.append("paid hosted models excluded: a budget of 0 leaves no money for per-token API spend" + (f": {_names(unpaid)}" if unpaid else ""))
        reasons.add(8, "budget_usd_month", "slm", "Your budget for API spend is 0, so paid hosted models are excluded.")
    if unknown:
        excluded.append(f"local models without a parameter count (memory cannot be estimated): {_names(unknown)}")
    device = needs.hardware.target in DEVICES
    return (_rank(slm, needs.quality, prefer_local=True, device=device), _rank(llm, needs.quality, prefer_local=False),
            hosted_banned, no_api_money)


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
    # Regulated data rules out hosted models outright (a hard constraint); the LLM that is left runs on
    # the user's own hardware, so its score takes no more than a confidential one's penalty.
    llm_score += PRIVACY_LLM["confidential" if needs.privacy == "regulated" and hosted_banned else needs.privacy]
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
    bills = [_hosted_cost(m, needs, needs.requests_per_day) for m in models if m.hosted and not m.is_slm]
    if not bills:
        return 0.0, 0.0
    cheapest = min(bills)
    if cheapest == 0:
        ratio = 0.0
    else:
        ratio = cheapest / needs.budget_usd_month if needs.budget_usd_month > 0 else math.inf
    affordability = 0.1 if ratio <= 0.5 else 0.0 if ratio <= 1 else -0.3 if ratio <= 3 else -0.5
    return affordability, cheapest


def _hybrid_share(needs: Needs) -> tuple[float, str]:
    if needs.calibrated_share is not None:
        return needs.calibrated_share, needs.calibrated_share_source or "a calibrated share"
    if needs.complex_share is not None:
        return needs.complex_share, f"your estimate that {needs.complex_share:.0%} of requests are hard"
    share = {"good_enough": 0.1, "high": 0.2, "best": 0.3}[needs.quality]
    return share, f"a default of {share:.0%} for {_words(needs.quality)} quality (give the share of hard requests to refine it)"


def _tail_model(needs: Needs, top_slm: Candidate | None, llm: Sequence[Candidate], share: float,
                assumptions: CostAssumptions) -> Candidate | None:
    """The LLM for the hard tail: clearly stronger than the SLM on the task (by TAIL_MARGIN); among those,
    the best whose share of the bill the budget allows (the cheapest of them at good-enough quality);
    when none is affordable, the cheapest of the stronger ones."""
    if top_slm is None:
        return None
    stronger = [c for c in llm if c.fits and c.quality_for_task >= top_slm.quality_for_task + TAIL_MARGIN]
    if not stronger:
        return None
    # A score from a benchmark that measures the task beats one from a proxy on another scale.
    stronger = [c for c in stronger if not c.quality_is_proxy] or stronger

    def tail_cost(c: Candidate) -> float:
        cost = _candidate_cost(needs, needs.requests_per_day * share, c, assumptions)
        return math.inf if cost is None else cost

    def cheapest_first(c: Candidate):
        # At a 0 % share every hosted tail costs nothing: the cost at the full volume then decides, not the slug.
        return tail_cost(c), -c.quality_for_task, _monthly_cost(c), c.slug

    affordable = [c for c in stronger if not c.hosted or tail_cost(c) <= needs.budget_usd_month]
    if not affordable:
        return min(stronger, key=cheapest_first)
    if needs.quality != "good_enough":
        # The best, but of models about as good as the best the cheapest.
        best = max(c.quality_for_task for c in affordable)
        affordable = [c for c in affordable if c.quality_for_task >= best - SAME_QUALITY]
    return min(affordable, key=cheapest_first)


def _hybrid_split(needs: Needs, top_slm: Candidate | None, tail: Candidate | None, possible: bool) -> HybridSplit:
    share, source = _hybrid_share(needs)
    if not possible or tail is None or top_slm is None:
        return HybridSplit(round(share, 3), "", None, None, False)
    rule = (
        f"Send about {share:.0%} of requests to the LLM ({tail.name}, {_quality_text(tail.quality_for_task)} for {_words(needs.task)} against"
        f" the SLM's {_quality_text(top_slm.quality_for_task)}) ({source}): those a router flags as needing deep reasoning, "
        "creativity or broad knowledge, and those where the SLM's answer fails validation or its confidence is low. "
        f"The rest run on the SLM ({top_slm.name})."
    )
    return HybridSplit(round(share, 3), rule, tail.slug, round(tail.quality_for_task, 3), True, tail.hosted)


def _cost_factor(needs: Needs, models: Sequence[ModelSpec], assumptions: CostAssumptions, bar: float,
                 hosted_banned: bool, no_api_money: bool) -> tuple[float, str]:
    """How the SLM's score moves with total cost: running the cheapest small model that meets the bar on
    the user's hardware against the cheapest allowed hosted large model that meets it.

    The local side is costed without the latency's speed check and as if always on, so that a tighter
    latency can never lower the SLM's score through it; it only moves the SLM's score, so the LLM's stays
    monotone in budget and volume."""
    if hosted_banned:
        return 0.0, ""
    local = []
    always_on = costs.local_cost_model(needs.hardware, "interactive", assumptions)
    for model in models:
        if model.hosted or not model.is_slm or model.quality_for(needs.task) < bar:
            continue
        fit = memory.best_fit_any_speed(model, needs.hardware, needs.input_tokens, needs.output_tokens, assumptions.max_parallel_requests)
        if fit.fits and fit.seconds_per_request is not None:
            cost = always_on(fit.seconds_per_request, needs.requests_per_day)
            local.append((cost, costs.busy_hours_per_day(needs.requests_per_day, fit.seconds_per_request), model))
    hosted = [(_hosted_cost(m, needs, needs.requests_per_day), m) for m in models
              if m.hosted and not m.is_slm and m.quality_for(needs.task) >= bar and not (no_api_money and m.paid)]
    if not local or not hosted:
        return 0.0, ""
    local_cost, busy, local_model = min(local, key=lambda item: (item[0], item[2].slug))
    hosted_cost, hosted_model = min(hosted, key=lambda item: (item[0], item[1].slug))
    machine = {"phone": "phone", "edge": "edge device", "laptop": "laptop"}.get(needs.hardware.target, "machine")
    words = (f"{local_model.name} on your own {machine}s costs about ${local_cost:,.0f} a month (busy {busy:,.1f} h a day in all),"
             f" {hosted_model.name} hosted about ${hosted_cost:,.0f}; both meet the bar")
    if local_cost > hosted_cost:
        ratio = math.inf if hosted_cost <= 0 else local_cost / hosted_cost
        return -min(COST_CAP, COST_WEIGHT_PER_DOUBLING * math.log2(ratio)), words
    if local_cost < hosted_cost:
        ratio = math.inf if local_cost <= 0 else hosted_cost / local_cost
        return min(COST_BONUS_CAP, COST_WEIGHT_PER_DOUBLING / 2 * math.log2(ratio)), words
    return 0.0, words


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

    sources: dict[int, tuple[ModelSpec, memory.Fit | None]] = {}
    slm, llm, hosted_banned, no_api_money = _select(needs, models, assumptions, bar, reasons, excluded, sources)
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
        reasons.add(min(0.4, 2 * gap), "quality", "llm", f"The best small model that fits scores {_quality_text(best_slm_quality)} for {_words(needs.task)}, under the {bar:.2f} that {_words(needs.quality)} quality needs.")

    # An LLM option needs a large model that is allowed and, if local, fits.
    if not llm_available:
        llm_score = 0.0
        if hosted_banned and llm:
            reasons.add(1, "hardware", "slm", f"No open model above 15B parameters fits the {memory.available_gb(needs.hardware):.1f} GB usable on your own hardware, so neither an LLM nor a hybrid is possible here.")
        elif hosted_banned:
            reasons.add(1, "hardware", "slm", "With hosted models excluded, the catalogue has no open model above 15B parameters to run on your own hardware, so neither an LLM nor a hybrid is possible here.")
        else:
            reasons.add(0.5, "budget_usd_month" if no_api_money else "hardware", "slm", "No large model is allowed by these answers and fits your hardware, so the LLM option is out.")

    cost_move, cost_words = _cost_factor(needs, models, assumptions, bar, hosted_banned, no_api_money)
    if cost_move:
        slm_score += cost_move
        if cost_move < 0:
            reasons.add(-cost_move, "hardware", "llm", f"Total cost: {cost_words}.")
        else:
            reasons.add(cost_move, "hardware", "slm", f"Total cost: {cost_words}.")

    slm_score, llm_score = _clamp(slm_score), _clamp(llm_score)

    top_slm = slm[0] if slm else None
    share, _ = _hybrid_share(needs)
    tail = _tail_model(needs, top_slm, llm, share, assumptions) if slm_fits and llm_available else None
    hybrid_possible = slm_fits and llm_available and tail is not None
    if slm_fits and llm_available and tail is None and top_slm is not None:
        reasons.add(0.3, "quality", "slm", f"No large model that is allowed here is clearly stronger than {top_slm.name} "
                    f"({_quality_text(top_slm.quality_for_task)} for {_words(needs.task)}), so a hybrid would send the hard requests to no better a model.")
    split = _hybrid_split(needs, top_slm, tail, hybrid_possible)
    hybrid_score = _hybrid_score(needs, slm_score, llm_score) if hybrid_possible else 0.0
    if hybrid_possible and tail.hosted and PRIVACY_LLM[needs.privacy]:
        # The hard requests go to a third party: the hybrid shares the LLM's privacy cost, all of it for
        # confidential data (any of it leaving is the harm), in proportion to the share for internal data.
        scale = 1.0 if needs.privacy == "confidential" else split.llm_share
        hybrid_score = _clamp(hybrid_score + scale * PRIVACY_LLM[needs.privacy])
        if needs.privacy == "confidential":
            reasons.add(-PRIVACY_LLM[needs.privacy], "privacy", "slm",
                        f"A hybrid would send the hard {split.llm_share:.0%} of your confidential requests to {tail.name} on a third party's servers.")
    if hybrid_possible and needs.complex_share is not None and HYBRID_TAIL[0] <= needs.complex_share <= HYBRID_TAIL[1]:
        wins = hybrid_score >= max(slm_score, llm_score)
        reasons.add(0.3 if wins else 0.05, "complex_share", "hybrid",
                    f"About {needs.complex_share:.0%} of your requests are hard and the rest routine: route the hard ones to {tail.name} and keep the bulk on the SLM.")
    elif hybrid_possible and hybrid_score >= max(slm_score, llm_score):
        reasons.add(0.3, "complex_share", "hybrid", f"Neither option dominates: a small model for the routine bulk, with about {split.llm_share:.0%} sent to {tail.name}.")
    if hosted_banned and llm_available:
        own = next(c for c in llm if c.fits)
        reasons.add(0.3, "hardware", "llm", f"Open-weights large models run on your own {needs.hardware.gpu_vram_gb:g} GB of GPU memory "
                    f"({own.name}, {own.memory_gb} GB at {own.quantization}), so the LLM and hybrid options stay open without data leaving your machines.")

    scores = {"slm": round(slm_score, 3), "llm": round(llm_score, 3), "hybrid": round(hybrid_score, 3)}

    # The CONTRACT: the top-level cost of each option is its first candidate's (hybrid: the split's).
    slm_cost = top_slm.monthly_cost_usd if top_slm else None
    llm_cost = top_llm.monthly_cost_usd if (top_llm := (llm[0] if llm else None)) else None
    hybrid_cost = costs.hybrid_monthly_usd(slm_cost, _candidate_cost(needs, needs.requests_per_day * split.llm_share, tail, assumptions)) if hybrid_possible else None
    option_costs = {"slm": slm_cost, "llm": llm_cost, "hybrid": hybrid_cost}

    def order(option: str):
        cost = option_costs[option]
        return (-scores[option], math.inf if cost is None else cost, TIE_ORDER.index(option))

    verdict = min(TIE_ORDER, key=order)
    curve, break_even = _cost_curve(needs, top_slm, top_llm, tail, split, assumptions, hybrid_possible)
    confident, caveats = _confidence(needs, verdict, slm, llm, tail)
    if not confident:
        reasons.add(0.0, "latency", verdict, caveats[0])
    if reasons.first_for(verdict) is None:
        # Every answer that moved the scores favoured another option, by less than this one's lead.
        reasons.add(0.0, "task", verdict, f"{OPTION_WORDS[verdict][0].upper() + OPTION_WORDS[verdict][1:]} scores highest overall "
                    f"({', '.join(f'{o.upper()} {scores[o]:.2f}' for o in OPTIONS)}): no single answer decides it.")

    # The hybrid's tail model is always among the large models shown (in the last place if it ranks lower).
    shown_llm = llm[:MAX_CANDIDATES]
    if tail is not None and tail not in shown_llm:
        shown_llm = llm[:MAX_CANDIDATES - 1] + (tail,)

    def described(c: Candidate) -> Candidate:
        # Notes and formulas are written for the candidates shown only: the others are only ranked.
        model, fit = sources[id(c)]
        if fit is None:
            notes, formula = _hosted_words(model, needs, c.quality_for_task, bar, c.monthly_cost_usd, c.price_factor, c.billed_output_tokens, c.within_budget)
        else:
            notes, formula = _local_words(model, fit, needs, c.quality_for_task, bar, c.monthly_cost_usd, c.busy_hours_per_day, c.machines)
        return c._replace(notes=notes, cost_formula=formula)

    return Recommendation(
        verdict=verdict, scores=scores, reasons=reasons.ordered(verdict),
        candidates={"slm": tuple(map(described, slm[:MAX_CANDIDATES])), "llm": tuple(map(described, shown_llm))},
        monthly_cost_usd=option_costs, hybrid=split,
        cost_curve=curve, break_even_requests_per_day=break_even, excluded=tuple(excluded),
        assumptions=assumptions, estimate_formulas=memory.FORMULAS | {f"cost_{k}": v for k, v in costs.FORMULAS.items()},
        local_machine=assumptions.machine(needs.hardware), local_cost_basis=costs.local_cost_basis(needs.hardware, assumptions),
        trade_off=_trade_off(needs, verdict, option_costs, reasons.first_for(verdict)), confident=confident, caveats=caveats,
    )


OPTION_WORDS = {"slm": "the SLM", "llm": "the LLM", "hybrid": "the hybrid"}


def _because(needs: Needs, reason: Reason | None) -> str:
    """The answer behind a reason, in a few words."""
    if reason is None:
        return "it scores highest on your answers"
    return {
        "privacy": f"your data is {needs.privacy}",
        "offline": "it must work offline",
        "latency": f"you need {_words(needs.latency)} answers",
        "quality": f"you need {_words(needs.quality)} quality",
        "task": f"of what {_words(needs.task)} needs",
        "hardware": f"of your {needs.hardware.target}'s hardware",
        "fine_tuning": "you need to fine-tune on your own data",
        "complex_share": "of your share of hard requests",
        "budget_usd_month": "of your budget",
        "requests_per_day": "of your volume and budget",
    }.get(reason.factor, reason.text.rstrip("."))


def _trade_off(needs: Needs, verdict: str, option_costs: dict, reason: Reason | None) -> str:
    """One sentence when the verdict costs more than the cheapest alternative."""
    mine = option_costs[verdict]
    others = [(cost, option) for option, cost in option_costs.items() if option != verdict and cost is not None]
    if mine is None or not others:
        return ""
    cheapest, option = min(others)
    if mine - cheapest < 0.5:
        return ""
    words = OPTION_WORDS[verdict]
    return f"{words[0].upper() + words[1:]} costs ${mine - cheapest:,.0f} a month more than {OPTION_WORDS[option]}; chosen because {_because(needs, reason)}."


def _confidence(needs: Needs, verdict: str, slm: Sequence[Candidate], llm: Sequence[Candidate],
                tail: Candidate | None) -> tuple[bool, tuple[str, ...]]:
    """Not confident when every local model the verdict would run is too slow for the latency; caveats
    when the top model meets the bar only by a proxy or a narrow margin."""
    caveats = []
    confident = True
    local_sides = {"slm": [slm], "hybrid": [slm], "llm": [llm] if llm and not llm[0].hosted else []}[verdict]
    for side in local_sides:
        fitting = [c for c in side if c.fits and not c.hosted]
        fitting = [c for c in fitting if c.meets_quality] or fitting  # the models the verdict would use
        if fitting and not any(c.fast_enough for c in fitting):
            fastest = min(fitting, key=lambda c: (c.first_token_s or 0) - (c.est_tokens_per_s or 0))
            confident = False
            caveats.append(f"Not a confident answer: none of the models that fit{' and meet the bar' if fitting[0].meets_quality else ''} is fast enough for {_words(needs.latency)} use here "
                           f"(the quickest, {fastest.name}, takes ≈{fastest.first_token_s:.1f} s to the first token and makes ≈{fastest.est_tokens_per_s} tokens/s); "
                           "more memory bandwidth, a GPU or shorter prompts would help.")
    top = (slm if verdict in ("slm", "hybrid") else llm)[:1]
    for c in top:
        if c.meets_quality and c.quality_is_proxy:
            caveats.append(f"{c.name} meets {_words(needs.quality)} quality for {_words(needs.task)} only by a proxy ({c.quality_source}): check it on your own prompts.")
        elif c.meets_quality and c.quality_for_task - c.quality_bar < NARROW_MARGIN:
            caveats.append(f"{c.name} meets the {c.quality_bar:.2f} bar by a narrow margin ({_quality_text(c.quality_for_task)}): check it on your own prompts.")
    return confident, tuple(caveats)


# --- Costs at other volumes -------------------------------------------------------------------------


def _candidate_cost(needs: Needs, requests: float, candidate: Candidate | None, assumptions: CostAssumptions) -> float | None:
    cost = _cost_function(needs, candidate, assumptions)
    return None if cost is None else cost(requests)


def _cost_function(needs: Needs, candidate: Candidate | None, assumptions: CostAssumptions):
    """A candidate's monthly cost as a function of requests/day (None: it cannot be costed)."""
    if candidate is None:
        return None
    if candidate.hosted:
        per_request = costs.hosted_monthly_usd(1, needs.input_tokens, candidate.billed_output_tokens or needs.output_tokens,
                                               candidate.input_usd_per_mtok, candidate.output_usd_per_mtok, candidate.price_factor)
        return lambda requests: requests * per_request
    if candidate.machine_seconds_per_request is None:
        return None
    return costs.local_cost_at(candidate.machine_seconds_per_request, needs.hardware, needs.latency, assumptions)


def _cost_curve(needs: Needs, top_slm: Candidate | None, top_llm: Candidate | None, tail: Candidate | None, split: HybridSplit,
                assumptions: CostAssumptions, hybrid_possible: bool) -> tuple[tuple[CostPoint, ...], float | None]:
    # 100 to 10 million requests a day, two points a decade, plus the user's own volume.
    grid = sorted({round(10 ** (k / 2)) for k in range(4, 15)} | {max(needs.requests_per_day, 1)})
    slm_cost, llm_cost, tail_cost = (_cost_function(needs, c, assumptions) for c in (top_slm, top_llm, tail))
    points = []
    for requests in grid:
        slm = slm_cost(requests) if slm_cost else None
        llm = llm_cost(requests) if llm_cost else None
        hybrid = costs.hybrid_monthly_usd(slm, tail_cost(requests * split.llm_share) if tail_cost else None)
        points.append(CostPoint(requests, slm, llm, hybrid if hybrid_possible else None))
    return tuple(points), _break_even(needs, top_slm, top_llm, assumptions)
def _break_even(needs: Needs, top_slm: Candidate | None, top_llm: Candidate | None, assumptions: CostAssumptions) -> float | None:
    """The smallest volume (1 to 100 million a day, 20 steps a decade) from which the SLM costs no more
    than the LLM; None when there is no crossing: the SLM is never cheaper, or always is."""
    slm_cost, llm_cost = _cost_function(needs, top_slm, assumptions), _cost_function(needs, top_llm, assumptions)
    if slm_cost is None or llm_cost is None:
        return None
    for k in range(0, 161):
        requests = 10 ** (k / 20)
        if slm_cost(requests) <= llm_cost(requests):
            return requests if k else None
    return None
