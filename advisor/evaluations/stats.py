"""Percentiles and intervals for the report. Plain Python, no Django."""

import math


def percentile(values, fraction: float) -> float | None:
    """numpy's default percentile: linear interpolation between the closest ranks."""
    ordered = sorted(v for v in values if v is not None)
    if not ordered:
        return None
    rank = (len(ordered) - 1) * fraction
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (rank - low) * (ordered[high] - ordered[low])


def p50_p95(values) -> dict:
    values = [v for v in values if v is not None]
    p50, p95 = percentile(values, 0.5), percentile(values, 0.95)
    return {"p50": None if p50 is None else round(p50, 2), "p95": None if p95 is None else round(p95, 2), "count": len(values)}


def wilson_interval(successes: int, trials: int, z: float = 1.959963984540054) -> tuple[float, float] | None:
    """The Wilson score interval (95 % by default) for a proportion; None with no trials."""
    if trials <= 0:
        return None
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def rate(successes: int, trials: int) -> dict:
    """A rate with its count and 95 % Wilson interval, the way every rate is shown."""
    interval = wilson_interval(successes, trials)
    return {
        "count": successes, "of": trials, "rate": round(successes / trials, 4) if trials else None,
        "low": round(interval[0], 4) if interval else None, "high": round(interval[1], 4) if interval else None,
    }


def mean(values) -> float | None:
    values = [v for v in values if v is not None]
    return round(sum(values) / len(values), 2) if values else None
