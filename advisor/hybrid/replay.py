"""Replaying a confidence cascade over items already run on both models, for every threshold.

No model is called: each item carries the SLM's confidence, both models' cost per request and a
quality verdict for the pair. The cascade at a threshold answers an item with the LLM when
`cascade.should_escalate(confidence, threshold)`, otherwise with the SLM; its quality is the mean
over the items of the answering model's quality.

Quality per item, in 0..1: per-model scores when both are given (a judge's scores, a reference
check), otherwise from the pairwise verdict — "llm" (LLM better): SLM 0, LLM 1; "slm": 1, 0;
"tie" (both fine): 1, 1; "both_bad": 0, 0. So LLM-only quality is the share of items where the
LLM's answer was not beaten and not bad, and likewise for the SLM.

Metrics follow RouteLLM's evaluation code (lm-sys/RouteLLM, routellm/evals/evaluate.py,
`generate_results`: `auc_metric`, `apgr_metric`, `pct_call_metric`; baselines in
routellm/evals/benchmarks.py, `get_optimal_accuracy`), with the weak model = SLM, strong = LLM:

- PGR at a threshold = (quality − SLM quality) / (LLM quality − SLM quality).
- AUC = trapezoid of quality over the LLM share (0..1), points sorted by share; APGR =
  (AUC − weak AUC) / (strong AUC − weak AUC), where weak/strong AUC are the trapezoids of the
  constant SLM/LLM quality over the same shares. The curve always spans shares 0 and 1
  (thresholds 0 and 1), so this equals the area under the PGR curve.
- CPT(x) = the LLM share at which quality reaches SLM quality + x × gap: `np.interp(target,
  qualities, shares)` on the points sorted by share, as RouteLLM does. np.interp assumes the
  qualities increase with the share; where they do not (escalating an item the SLM answered
  better lowers quality) numpy leaves the answer undefined, and we take the lowest share at which
  the curve reaches the target instead (`cpt_curve_monotone` says which).
- Random router: the expected curve of routing a share s at random is the straight line from
  (0, SLM quality) to (1, LLM quality), so its APGR is 0.5 (RouteLLM averages 10 random runs,
  which tends to it).
- Oracle: escalate exactly the items where the LLM was better; its curve at a share k/n sends the
  k items with the largest LLM − SLM gain, never one with no gain (`get_optimal_accuracy`).

Intervals are percentile bootstraps over items (seeded: the same items give the same interval).
"""

import math
import random
from dataclasses import asdict, dataclass, field
from typing import Sequence

from advisor.hybrid.cascade import known_confidence, should_escalate, validate_threshold

MIN_VOTED_ITEMS = 10
VERDICTS = {  # verdict → (SLM quality, LLM quality)
    "llm": (0.0, 1.0),
    "slm": (1.0, 0.0),
    "tie": (1.0, 1.0),
    "both_bad": (0.0, 0.0),
}
BOOTSTRAP_RESAMPLES = 1000
BOOTSTRAP_SEED = 0


class NotEnoughVotes(ValueError):
    """Too few items with a verdict to calibrate on; the message says how many more."""


@dataclass(frozen=True)
class ReplayItem:
    confidence: float | None  # the SLM's confidence score on this item, 0..1; None if it has none
    slm_cost_usd: float  # cost of one request on each model (0 for a local model, or its machine cost)
    llm_cost_usd: float
    verdict: str | None = None  # "llm" | "slm" | "tie" | "both_bad" (user's vote, else the judge's)
    slm_quality: float | None = None  # per-model scores 0..1; used instead of the verdict when both set
    llm_quality: float | None = None
    key: str = ""  # a stable id (the suite item's index or id): the held-out split hashes it


def verdict_from_vote(vote: str | None, *, slm_side: str) -> str | None:
    """An evaluation's vote ("left" | "right" | "tie" | "both_bad") as a verdict for the pair,
    given which side ("left" or "right") showed the SLM."""
    if slm_side not in ("left", "right"):
        raise ValueError("slm_side must be 'left' or 'right'.")
    if vote in (None, ""):
        return None
    if vote in ("tie", "both_bad"):
        return vote
    if vote in ("left", "right"):
        return "slm" if vote == slm_side else "llm"
    raise ValueError(f"Unknown vote {vote!r}; use left, right, tie or both_bad.")


def item_qualities(item: ReplayItem) -> tuple[float, float] | None:
    """(SLM quality, LLM quality) for an item, or None when it has no verdict and no scores."""
    if item.slm_quality is not None and item.llm_quality is not None:
        for name in ("slm_quality", "llm_quality"):
            value = getattr(item, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
                raise ValueError(f"{name} must be a number between 0 and 1, not {value!r}.")
        return float(item.slm_quality), float(item.llm_quality)
    if item.verdict is None:
        return None
    if item.verdict not in VERDICTS:
        raise ValueError(f"verdict must be one of {', '.join(VERDICTS)}, not {item.verdict!r}.")
    return VERDICTS[item.verdict]


@dataclass(frozen=True)
class _Scored:
    confidence: float | None
    slm_quality: float
    llm_quality: float
    slm_cost_usd: float
    llm_cost_usd: float


def scored_items(items: Sequence[ReplayItem]) -> list[_Scored]:
    """The voted items, validated; items without a verdict or scores are left out."""
    scored = []
    for item in items:
        qualities = item_qualities(item)
        if qualities is None:
            continue
        for name in ("slm_cost_usd", "llm_cost_usd"):
            value = getattr(item, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or math.isnan(value):
                raise ValueError(f"{name} must be a number of dollars, 0 or more, not {value!r}.")
        scored.append(_Scored(known_confidence(item.confidence), *qualities, float(item.slm_cost_usd), float(item.llm_cost_usd)))
    return scored


def require_votes(count: int, minimum: int = MIN_VOTED_ITEMS) -> None:
    if count < minimum:
        raise NotEnoughVotes(
            f"Calibrating a hybrid needs at least {minimum} voted items; these runs have {count}. "
            f"Vote on {minimum - count} more in the review queue (or let the judge rate them), then try again."
        )


@dataclass(frozen=True)
class CascadePoint:
    threshold: float
    llm_share: float
    quality: float
    pgr: float | None  # None when the LLM is not better on these items (no gap to recover)
    cost_per_1k_requests_usd: float
    savings_vs_llm: float | None  # 1 − cost / LLM-only cost; None when LLM-only costs nothing
    escalated: int


@dataclass(frozen=True)
class Interval:
    low: float
    high: float
    resamples: int  # resamples the interval is made of (those where the figure is defined)
    seed: int
    level: float = 0.95


@dataclass(frozen=True)
class HybridReplay:
    items_voted: int
    items_without_confidence: int
    slm_quality: float
    llm_quality: float
    slm_suffices: bool  # the LLM is not better on these items: no threshold is worth escalating
    points: list[CascadePoint]
    apgr: float | None
    apgr_interval: Interval | None
    cpt50: float | None
    cpt80: float | None
    cpt_curve_monotone: bool
    random_apgr: float | None
    oracle_llm_share: float
    oracle_quality: float
    oracle_apgr: float | None
    oracle_points: list[dict]  # [{"llm_share", "quality"}], k/n for k = 0..n
    slm_cost_per_1k_requests_usd: float
    llm_cost_per_1k_requests_usd: float
    at_threshold: CascadePoint | None = None  # the chosen threshold's point, when one was given
    at_threshold_quality_interval: Interval | None = None
    notes: list[str] = field(default_factory=list)


def _mean(values) -> float:
    values = list(values)
    return sum(values) / len(values) if values else 0.0


def _gap_ratio(value: float, low: float, high: float) -> float | None:
    return (value - low) / (high - low) if high > low else None


def _savings(cost: float, llm_cost: float) -> float | None:
    return 1 - cost / llm_cost if llm_cost > 0 else None


def point_at_threshold(scored: Sequence[_Scored], threshold: float) -> CascadePoint:
    """The cascade at one threshold, deciding each item with the live rule (should_escalate)."""
    threshold = validate_threshold(threshold)
    n = len(scored)
    if n == 0:
        raise ValueError("No voted items to replay.")
    escalated = [should_escalate(item.confidence, threshold) for item in scored]
    quality = _mean(item.llm_quality if up else item.slm_quality for item, up in zip(scored, escalated))
    cost = _mean(item.slm_cost_usd + (item.llm_cost_usd if up else 0.0) for item, up in zip(scored, escalated))
    slm_q, llm_q = _mean(i.slm_quality for i in scored), _mean(i.llm_quality for i in scored)
    llm_cost = _mean(i.llm_cost_usd for i in scored)
    return CascadePoint(
        threshold=threshold, llm_share=sum(escalated) / n, quality=quality, pgr=_gap_ratio(quality, slm_q, llm_q),
        cost_per_1k_requests_usd=cost * 1000, savings_vs_llm=_savings(cost, llm_cost), escalated=sum(escalated),
    )


def _curve(scored: Sequence[_Scored]) -> list[CascadePoint]:
    """One point per distinct set of escalated items, from none (threshold 0) to all (1).

    Items are ordered by confidence (missing first: they escalate at any threshold above 0);
    raising the threshold escalates a growing prefix. Between two neighbouring confidences a < b
    the threshold (a + b) / 2 escalates exactly the items up to a, with a margin both sides for
    traffic the replay has not seen. Agrees with point_at_threshold (a test checks it)."""
    n = len(scored)
    order = sorted(scored, key=lambda item: -1.0 if item.confidence is None else item.confidence)
    slm_q, llm_q = _mean(i.slm_quality for i in scored), _mean(i.llm_quality for i in scored)
    slm_cost, llm_cost = _mean(i.slm_cost_usd for i in scored), _mean(i.llm_cost_usd for i in scored)

    def point(threshold: float, k: int, gain: float, extra_cost: float) -> CascadePoint:
        quality = slm_q + gain / n
        cost = slm_cost + extra_cost / n
        return CascadePoint(threshold, k / n, quality, _gap_ratio(quality, slm_q, llm_q),
                            cost * 1000, _savings(cost, llm_cost), k)

    points = [point(0.0, 0, 0.0, 0.0)]
    gain = extra_cost = 0.0
    for k, item in enumerate(order, start=1):
        gain += item.llm_quality - item.slm_quality
        extra_cost += item.llm_cost_usd
        if k == n:
            break
        here = -1.0 if item.confidence is None else item.confidence
        following = order[k].confidence
        if following is None or following <= max(here, 0.0):
            continue  # the same confidence (or missing/0 next to 0): no threshold separates them
        threshold = _threshold_between(max(here, 0.0), following)
        if threshold is not None:
            points.append(point(threshold, k, gain, extra_cost))
    points.append(point(1.0, n, gain, extra_cost))
    return points


def _threshold_between(low: float, high: float) -> float | None:
    """A short number strictly between two confidences, near their midpoint (0.15, not
    0.15000000000000002), so the threshold reads well and still separates them."""
    middle = (low + high) / 2
    for digits in range(1, 10):
        candidate = round(middle, digits)
        if low < candidate < high:
            return candidate
    if low < middle < high:
        return middle
    # Confidences a hair apart: the upper one still escalates exactly those below it — unless it
    # is 1, which always escalates everything; then no threshold separates them.
    return high if high < 1 else None


def _trapezoid(ys: Sequence[float], xs: Sequence[float]) -> float:
    return sum((xs[i + 1] - xs[i]) * (ys[i + 1] + ys[i]) / 2 for i in range(len(xs) - 1))


def apgr_of(points: Sequence[CascadePoint] | Sequence[tuple[float, float]], slm_q: float, llm_q: float) -> float | None:
    """RouteLLM's apgr_metric over (llm_share, quality) points."""
    pairs = sorted((p.llm_share, p.quality) if isinstance(p, CascadePoint) else p for p in points)
    if llm_q <= slm_q:
        return None
    shares = [s for s, _ in pairs]
    auc = _trapezoid([q for _, q in pairs], shares)
    weak_auc = _trapezoid([slm_q] * len(pairs), shares)
    strong_auc = _trapezoid([llm_q] * len(pairs), shares)
    return (auc - weak_auc) / (strong_auc - weak_auc)


def _np_interp(x: float, xp: Sequence[float], fp: Sequence[float]) -> float:
    """numpy.interp for non-decreasing xp, written out (so this module needs no numpy): on a
    plateau of xp numpy lands on its last element, and so does this."""
    if x < xp[0]:
        return fp[0]
    if x >= xp[-1]:
        return fp[-1]
    j = max(i for i in range(len(xp)) if xp[i] <= x)
    return fp[j] + (fp[j + 1] - fp[j]) * (x - xp[j]) / (xp[j + 1] - xp[j])


def cpt_of(points: Sequence[CascadePoint], fraction: float, slm_q: float, llm_q: float) -> tuple[float | None, bool]:
    """RouteLLM's pct_call_metric: the LLM share that keeps `fraction` of the quality gap;
    (share, whether the curve was monotone so numpy's interp applied)."""
    if llm_q <= slm_q:
        return None, True
    pairs = sorted((p.llm_share, p.quality) for p in points)
    shares, qualities = [s for s, _ in pairs], [q for _, q in pairs]
    target = fraction * (llm_q - slm_q) + slm_q
    if all(a <= b for a, b in zip(qualities, qualities[1:])):
        return _np_interp(target, qualities, shares), True
    # Not monotone: the lowest share at which the piecewise-linear curve reaches the target.
    if qualities[0] >= target:
        return shares[0], False
    for i in range(len(pairs) - 1):
        q0, q1 = qualities[i], qualities[i + 1]
        if q0 < target <= q1:
            return shares[i] + (shares[i + 1] - shares[i]) * (target - q0) / (q1 - q0), False
    return shares[-1], False


def _confidence_order(scored: Sequence[_Scored]) -> tuple[list[_Scored], list[int]]:
    """The items by confidence as _curve orders them, and for each a block number: items in one
    block no threshold separates (the same confidence; missing next to 0; a hair under 1 next to 1)."""
    order = sorted(scored, key=lambda item: -1.0 if item.confidence is None else item.confidence)
    blocks, block = [], 0
    for k, item in enumerate(order):
        if k:
            here = order[k - 1].confidence
            low = 0.0 if here is None else here
            following = item.confidence
            if following is not None and following > low and _threshold_between(low, following) is not None:
                block += 1
        blocks.append(block)
    return order, blocks


def _bootstrap_apgr(scored: Sequence[_Scored], draws: list[list[int]]) -> list[float]:
    """APGR of each resample, without building its points: the same curve as _curve(sample) (a
    test checks it), at a fraction of the time — the bootstrap is most of a replay's work."""
    order, blocks = _confidence_order(scored)
    position = {id(item): k for k, item in enumerate(order)}
    # A draw's indices refer to `scored`; in sorted positions the sample's curve is a walk.
    rank = [position[id(item)] for item in scored]
    values = []
    for draw in draws:
        positions = sorted(rank[i] for i in draw)
        n = len(positions)
        slm_q = sum(order[p].slm_quality for p in positions) / n
        llm_q = sum(order[p].llm_quality for p in positions) / n
        if llm_q <= slm_q:
            continue  # no gap to recover in this resample: APGR undefined
        area, gain, last_share, last_gain = 0.0, 0.0, 0.0, 0.0
        for k, p in enumerate(positions, start=1):
            gain += order[p].llm_quality - order[p].slm_quality
            if k == n or blocks[positions[k]] != blocks[p]:
                share = k / n
                area += (share - last_share) * (last_gain + gain) / 2
                last_share, last_gain = share, gain
        # quality = slm_q + gain/n, so (AUC − weak AUC) / (strong AUC − weak AUC) over shares 0..1:
        values.append((area / n) / (llm_q - slm_q))
    return values


def _oracle_curve(scored: Sequence[_Scored]) -> list[tuple[float, float]]:
    n = len(scored)
    slm_q = _mean(i.slm_quality for i in scored)
    gains = sorted((i.llm_quality - i.slm_quality for i in scored), reverse=True)
    curve, total = [(0.0, slm_q)], 0.0
    for k in range(1, n + 1):
        total += max(gains[k - 1], 0.0)  # never send an item the LLM does not improve
        curve.append((k / n, slm_q + total / n))
    return curve


def _percentile(sorted_values: Sequence[float], q: float) -> float:
    position = (len(sorted_values) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def _interval(values: list[float], resamples_seed: int, level: float = 0.95) -> Interval | None:
    if not values:
        return None
    values.sort()
    tail = (1 - level) / 2
    return Interval(_percentile(values, tail), _percentile(values, 1 - tail), len(values), resamples_seed, level)


def _resamples(n: int, count: int, seed: int) -> list[list[int]]:
    rng = random.Random(seed)
    return [[rng.randrange(n) for _ in range(n)] for _ in range(count)]


def hybrid_replay(
    *, items: Sequence[ReplayItem], threshold: float | None = None, resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED, min_voted: int = MIN_VOTED_ITEMS,
) -> HybridReplay:
    """The cascade over `items` for every threshold, with RouteLLM's metrics and both baselines.

    Raises NotEnoughVotes under `min_voted` voted items, ValueError naming a bad field."""
    scored = scored_items(items)
    require_votes(len(scored), min_voted)
    if threshold is not None:
        threshold = validate_threshold(threshold)
    n = len(scored)
    slm_q, llm_q = _mean(i.slm_quality for i in scored), _mean(i.llm_quality for i in scored)
    points = _curve(scored)
    apgr = apgr_of(points, slm_q, llm_q)
    cpt50, monotone50 = cpt_of(points, 0.5, slm_q, llm_q)
    cpt80, monotone80 = cpt_of(points, 0.8, slm_q, llm_q)
    oracle = _oracle_curve(scored)
    oracle_share = sum(1 for i in scored if i.llm_quality > i.slm_quality) / n

    draws = _resamples(n, resamples, seed)
    apgr_draws = _bootstrap_apgr(scored, draws)

    at_threshold = quality_interval = None
    if threshold is not None:
        at_threshold = point_at_threshold(scored, threshold)
        routed = [i.llm_quality if should_escalate(i.confidence, threshold) else i.slm_quality for i in scored]
        quality_interval = _interval([_mean(routed[i] for i in draw) for draw in draws], seed)

    notes = []
    if llm_q <= slm_q:
        notes.append("The small model suffices: the large model is not better on these items, so escalating gains nothing.")
    without_confidence = sum(1 for i in scored if i.confidence is None)
    if without_confidence:
        notes.append(f"{without_confidence} of {n} items have no confidence from the small model; they escalate at any threshold above 0.")
    return HybridReplay(
        items_voted=n, items_without_confidence=without_confidence, slm_quality=slm_q, llm_quality=llm_q,
        slm_suffices=llm_q <= slm_q, points=points, apgr=apgr,
        apgr_interval=_interval(apgr_draws, seed) if apgr is not None else None,
        cpt50=cpt50, cpt80=cpt80, cpt_curve_monotone=monotone50 and monotone80,
        random_apgr=0.5 if llm_q > slm_q else None,
        oracle_llm_share=oracle_share, oracle_quality=oracle[-1][1], oracle_apgr=apgr_of(oracle, slm_q, llm_q),
        oracle_points=[{"llm_share": s, "quality": q} for s, q in oracle],
        slm_cost_per_1k_requests_usd=_mean(i.slm_cost_usd for i in scored) * 1000,
        llm_cost_per_1k_requests_usd=_mean(i.llm_cost_usd for i in scored) * 1000,
        at_threshold=at_threshold, at_threshold_quality_interval=quality_interval, notes=notes,
    )


def _rounded(value, digits: int = 6):
    if isinstance(value, float):
        return round(value, digits)
    if isinstance(value, dict):
        return {k: _rounded(v, digits) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v, digits) for v in value]
    return value


def replay_as_json(replay: HybridReplay) -> dict:
    """The body of GET /api/evaluations/<id>/hybrid (CONTRACT keys first, then the rest).

    Thresholds are not rounded here: _threshold_between already made them short, and rounding
    one onto a confidence would change which side of it an item falls."""
    def point(p: CascadePoint) -> dict:
        out = _rounded({k: v for k, v in asdict(p).items() if k != "threshold"})
        return {"threshold": p.threshold, **out}

    def interval(i: Interval | None) -> dict | None:
        return None if i is None else _rounded(asdict(i))

    return {
        "items_voted": replay.items_voted,
        "points": [point(p) for p in replay.points],
        "apgr": _rounded(replay.apgr),
        "cpt50": _rounded(replay.cpt50),
        "cpt80": _rounded(replay.cpt80),
        "random_apgr": replay.random_apgr,
        "apgr_interval": interval(replay.apgr_interval),
        "slm_suffices": replay.slm_suffices,
        "slm_quality": _rounded(replay.slm_quality),
        "llm_quality": _rounded(replay.llm_quality),
        "cpt_curve_monotone": replay.cpt_curve_monotone,
        "items_without_confidence": replay.items_without_confidence,
        "random": {"points": [{"llm_share": 0.0, "quality": _rounded(replay.slm_quality)},
                              {"llm_share": 1.0, "quality": _rounded(replay.llm_quality)}]},
        "oracle": {"llm_share": _rounded(replay.oracle_llm_share), "quality": _rounded(replay.oracle_quality),
                   "apgr": _rounded(replay.oracle_apgr), "points": _rounded(replay.oracle_points)},
        "slm_cost_per_1k_requests_usd": _rounded(replay.slm_cost_per_1k_requests_usd),
        "llm_cost_per_1k_requests_usd": _rounded(replay.llm_cost_per_1k_requests_usd),
        "at_threshold": None if replay.at_threshold is None else point(replay.at_threshold),
        "at_threshold_quality_interval": interval(replay.at_threshold_quality_interval),
        "notes": replay.notes,
    }
