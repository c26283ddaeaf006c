"""Choosing a cascade threshold for a target, and saying what it gives on items it was not chosen on.

The voted items are split once, by a seeded hash of each item's key (the same items and seed give
the same split whatever their order, and adding an item does not move the others): the threshold
is chosen on the calibration part and the figures reported are measured on the held-out part, so
they are not flattered by the choice.

Targets:
- "llm_share": send at most this share of requests to the LLM (0..1); the best quality within it.
- "quality": keep at least this share of the LLM-only quality (0..1, e.g. 0.95 for "95 % of the
  LLM's quality"), at the lowest LLM share.
- "monthly_budget": spend at most this many dollars a month at `requests_per_day` (a month is 30
  days, as in the recommendation's costs); the best quality within it.
- "miss_rate": keep "the SLM answered wrongly and was not escalated" under this share of requests
  (0..1) with 95 % confidence: the lowest LLM share whose one-sided Clopper–Pearson upper bound on
  the calibration part is under the target.

Whatever the target, the calibration states its guarantee on the held-out items: how often the SLM
was wrong (quality under one half: the LLM's answer was better, or both were bad) and not
escalated, the 95 % Clopper–Pearson upper bound on that rate, and how many more voted items at the
rate seen would bring the bound under the target (or, for the other targets, halve its margin).
"""

import hashlib
from dataclasses import dataclass
from typing import Sequence

from advisor.hybrid.replay import (
    BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED, MIN_VOTED_ITEMS, CascadePoint, Interval, ReplayItem, _curve,
    _interval, _mean, _resamples, point_at_threshold, require_votes, scored_items,
)
from advisor.hybrid.cascade import should_escalate
from advisor.evaluations.stats import clopper_pearson_upper, votes_to_bound

TARGET_KINDS = ("llm_share", "quality", "monthly_budget", "miss_rate")
CONFIDENCE = 0.95
WRONG_BELOW = 0.5  # an SLM answer of quality under this is wrong
DAYS_PER_MONTH = 30
HOLDOUT_FRACTION = 0.5
SPLIT_SEED = 0


class CalibrationImpossible(ValueError):
    """No threshold meets the target on these items; the message says why."""


@dataclass(frozen=True)
class Target:
    kind: str
    value: float
    requests_per_day: int | None = None  # needed for a monthly budget; else only for the monthly figure

    def validated(self) -> "Target":
        if self.kind not in TARGET_KINDS:
            raise ValueError(f"target_kind must be one of {', '.join(TARGET_KINDS)}, not {self.kind!r}.")
        value = self.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"target_value must be a number, not {value!r}.")
        if self.kind in ("llm_share", "quality", "miss_rate") and not 0 <= value <= 1:
            raise ValueError(f"target_value for {self.kind} must be between 0 and 1, not {value!r}.")
        if self.kind == "monthly_budget":
            if value < 0:
                raise ValueError(f"target_value (a monthly budget in dollars) must be 0 or more, not {value!r}.")
            if not self.requests_per_day or self.requests_per_day <= 0:
                raise ValueError("requests_per_day must be a positive number of requests for a monthly budget.")
        if self.requests_per_day is not None and (isinstance(self.requests_per_day, bool) or self.requests_per_day < 0):
            raise ValueError(f"requests_per_day must be 0 or more, not {self.requests_per_day!r}.")
        return self


@dataclass(frozen=True)
class MeasuredPoint:
    """The cascade at the chosen threshold on one part of the items."""

    items: int
    llm_share: float
    quality: float
    quality_interval: Interval | None  # seeded bootstrap over this part's items
    quality_kept: float | None  # quality / LLM-only quality on the same items
    pgr: float | None
    cost_per_1k_requests_usd: float
    savings_vs_llm: float | None
    monthly_cost_usd: float | None  # at the target's requests_per_day, when given
    llm_only_monthly_cost_usd: float | None


@dataclass(frozen=True)
class Guarantee:
    """"SLM wrong and not escalated" on the held-out items, with its 95 % upper bound."""

    misses: int
    items: int
    upper_bound: float | None  # one-sided Clopper–Pearson, at `confidence`
    confidence: float
    bound_target: float | None  # the miss-rate target; None for other targets
    holds: bool | None  # the bound is under the target (None without one)
    more_votes: int | None  # more voted items, at the rate seen, to bring the bound under `tightened_to`
    tightened_to: float | None
    sentence: str


@dataclass(frozen=True)
class Calibration:
    target: Target
    threshold: float
    items_voted: int
    calibration: MeasuredPoint  # where the threshold was chosen
    held_out: MeasuredPoint  # the figures to expect: items the choice did not see
    split_seed: int
    holdout_fraction: float
    guarantee: Guarantee | None = None

    def as_figures(self) -> dict:
        """JSON-ready figures, for HybridPolicy.figures and the calibration page."""
        from dataclasses import asdict

        return {
            "threshold": self.threshold, "items_voted": self.items_voted,
            "target": asdict(self.target), "split_seed": self.split_seed, "holdout_fraction": self.holdout_fraction,
            "calibration": asdict(self.calibration), "held_out": asdict(self.held_out),
            "guarantee": asdict(self.guarantee) if self.guarantee else None,
        }


def _split_rank(key: str, seed: int) -> str:
    return hashlib.sha256(f"{seed}:{key}".encode()).hexdigest()


def split_items(
    items: Sequence[ReplayItem], *, holdout_fraction: float = HOLDOUT_FRACTION, seed: int = SPLIT_SEED,
) -> tuple[list[ReplayItem], list[ReplayItem]]:
    """(calibration part, held-out part) of the voted items; each part has at least one item.

    Keys must be unique; an item without a key is keyed by its position."""
    if not 0 < holdout_fraction < 1:
        raise ValueError(f"holdout_fraction must be between 0 and 1 (exclusive), not {holdout_fraction!r}.")
    voted = [item for item in items if (item.verdict is not None) or (item.slm_quality is not None and item.llm_quality is not None)]
    keyed = [(item.key or f"#{position}", item) for position, item in enumerate(voted)]
    if len({key for key, _ in keyed}) != len(keyed):
        raise ValueError("Each item needs a distinct key to be split into calibration and held-out parts.")
    ranked = [item for _, item in sorted(keyed, key=lambda pair: _split_rank(pair[0], seed))]
    held = min(len(ranked) - 1, max(1, round(len(ranked) * holdout_fraction)))
    return ranked[held:], ranked[:held]


def _monthly(cost_per_1k: float, requests_per_day: int | None) -> float | None:
    return None if requests_per_day is None else cost_per_1k / 1000 * requests_per_day * DAYS_PER_MONTH


def misses_at(scored, threshold: float) -> int:
    """Items the SLM got wrong that the cascade at `threshold` leaves with it."""
    return sum(1 for item in scored if item.slm_quality < WRONG_BELOW and not should_escalate(item.confidence, threshold))


def _percent(value: float) -> str:
    return f"{100 * value:.1f} %"


def guarantee_of(items: Sequence[ReplayItem], threshold: float, target: Target) -> Guarantee:
    """What the threshold guarantees on `items` (the held-out part), in figures and in words."""
    scored = scored_items(items)
    misses, n = misses_at(scored, threshold), len(scored)
    bound = clopper_pearson_upper(misses, n, CONFIDENCE)
    seen = (f"On the {n} held-out items the small model answered wrongly without escalating {misses} time{'s' if misses != 1 else ''}: "
            f"with {CONFIDENCE:.0%} confidence that happens on at most {_percent(bound)} of requests (Clopper–Pearson upper bound).")
    if target.kind == "miss_rate":
        tightened_to, holds = target.value, bound <= target.value
        more = votes_to_bound(misses, n, target=target.value, confidence=CONFIDENCE)
        chosen = (f"Threshold {threshold} was chosen so that answers the small model gets wrong and does not escalate stay under "
                  f"{_percent(target.value)} of requests with {CONFIDENCE:.0%} confidence. ")
        if holds:
            tail = f" That meets the {_percent(target.value)} target."
        elif more is None:
            tail = f" That does not meet the {_percent(target.value)} target, and more votes at this rate would not: choose a lower threshold target or a better small model."
        else:
            tail = f" That does not meet the {_percent(target.value)} target yet: about {more} more voted items at this rate would bring the bound under it."
        return Guarantee(misses, n, bound, CONFIDENCE, target.value, holds, more, tightened_to, chosen + seen + tail)
    tightened_to = misses / n + (bound - misses / n) / 2
    more = votes_to_bound(misses, n, target=tightened_to, confidence=CONFIDENCE)
    tail = f" About {more} more voted items at this rate would tighten the bound to {_percent(tightened_to)}." if more else ""
    return Guarantee(misses, n, bound, CONFIDENCE, None, None, more, tightened_to, f"At threshold {threshold}: " + seen + tail)


def _choose_for_misses(scored, target: Target) -> CascadePoint:
    """The lowest LLM share whose miss-rate bound on these items is under the target."""
    points = sorted(_curve(scored), key=lambda p: (p.llm_share, p.threshold))
    for point in points:
        if clopper_pearson_upper(misses_at(scored, point.threshold), len(scored), CONFIDENCE) <= target.value:
            return point
    everything = points[-1]
    more = votes_to_bound(misses_at(scored, everything.threshold), len(scored), target=target.value, confidence=CONFIDENCE)
    raise CalibrationImpossible(
        f"No threshold keeps wrong, unescalated answers under {_percent(target.value)} with {CONFIDENCE:.0%} confidence on "
        f"{len(scored)} calibration items, even escalating everything"
        + (f": about {2 * more} more voted items (half are held out) would make it possible." if more else ".")
    )


def choose_point(points: Sequence[CascadePoint], target: Target, *, llm_quality: float) -> CascadePoint:
    """The point of a replayed curve that meets the target best (see the module's docstring).
    A miss-rate target needs the items themselves: hybrid_calibrate chooses it."""
    target = target.validated()
    tolerance = 1e-9  # sums of qualities are floats: 0.7 should meet a target of 0.7
    if target.kind == "llm_share":
        allowed = [p for p in points if p.llm_share <= target.value + tolerance]
        return max(allowed, key=lambda p: (p.quality, -p.llm_share))
    if target.kind == "quality":
        allowed = [p for p in points if p.quality >= target.value * llm_quality - tolerance]
        return min(allowed, key=lambda p: (p.llm_share, -p.quality))  # LLM-only always qualifies
    allowed = [p for p in points if _monthly(p.cost_per_1k_requests_usd, target.requests_per_day) <= target.value + tolerance]
    if not allowed:
        cheapest = min(points, key=lambda p: p.cost_per_1k_requests_usd)
        raise CalibrationImpossible(
            f"No threshold fits a budget of ${target.value:,.2f} a month at {target.requests_per_day:,} requests a day: "
            f"even the cheapest ({cheapest.llm_share:.0%} of requests to the large model) costs "
            f"${_monthly(cheapest.cost_per_1k_requests_usd, target.requests_per_day):,.2f} a month."
        )
    return max(allowed, key=lambda p: (p.quality, -p.cost_per_1k_requests_usd))


def _measure(items: Sequence[ReplayItem], threshold: float, target: Target, resamples: int, seed: int) -> MeasuredPoint:
    scored = scored_items(items)
    point = point_at_threshold(scored, threshold)
    llm_q = _mean(i.llm_quality for i in scored)
    routed = [i.llm_quality if should_escalate(i.confidence, threshold) else i.slm_quality for i in scored]
    interval = _interval([_mean(routed[i] for i in draw) for draw in _resamples(len(scored), resamples, seed)], seed)
    llm_cost_per_1k = _mean(i.llm_cost_usd for i in scored) * 1000
    return MeasuredPoint(
        items=len(scored), llm_share=point.llm_share, quality=point.quality, quality_interval=interval,
        quality_kept=point.quality / llm_q if llm_q > 0 else None, pgr=point.pgr,
        cost_per_1k_requests_usd=point.cost_per_1k_requests_usd, savings_vs_llm=point.savings_vs_llm,
        monthly_cost_usd=_monthly(point.cost_per_1k_requests_usd, target.requests_per_day),
        llm_only_monthly_cost_usd=_monthly(llm_cost_per_1k, target.requests_per_day),
    )


def hybrid_calibrate(
    *, items: Sequence[ReplayItem], target: Target, holdout_fraction: float = HOLDOUT_FRACTION,
    split_seed: int = SPLIT_SEED, resamples: int = BOOTSTRAP_RESAMPLES, bootstrap_seed: int = BOOTSTRAP_SEED,
    min_voted: int = MIN_VOTED_ITEMS,
) -> Calibration:
    """The threshold that meets `target` on the calibration part, and its figures on both parts.

    Raises NotEnoughVotes under `min_voted` voted items, CalibrationImpossible when no threshold
    meets the target, ValueError naming a bad field."""
    target = target.validated()
    voted = scored_items(items)  # validates every voted item before anything is chosen
    require_votes(len(voted), min_voted)
    calibration_part, held_out_part = split_items(items, holdout_fraction=holdout_fraction, seed=split_seed)
    scored = scored_items(calibration_part)
    chosen = (_choose_for_misses(scored, target) if target.kind == "miss_rate"
              else choose_point(_curve(scored), target, llm_quality=_mean(i.llm_quality for i in scored)))
    return Calibration(
        target=target, threshold=chosen.threshold, items_voted=len(voted),
        calibration=_measure(calibration_part, chosen.threshold, target, resamples, bootstrap_seed),
        held_out=_measure(held_out_part, chosen.threshold, target, resamples, bootstrap_seed),
        split_seed=split_seed, holdout_fraction=holdout_fraction,
        guarantee=guarantee_of(held_out_part, chosen.threshold, target),
    )
