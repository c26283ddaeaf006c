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


def mcnemar_exact(only_first: int, only_second: int) -> float | None:
    """McNemar's exact test (two-sided) on the discordant pairs of a paired comparison: the items
    where only the first model succeeded and those where only the second did. Under "neither is
    better" each discordant item is a fair coin, so the p-value is the two-sided binomial test of
    the smaller count against n = b + c at 0.5 (scipy.stats.binomtest gives the same). None with
    no discordant pairs: the data cannot tell the two apart."""
    n = only_first + only_second
    if n == 0:
        return None
    smaller = min(only_first, only_second)
    tail = sum(math.comb(n, k) for k in range(smaller + 1)) / 2**n
    return min(1.0, 2 * tail)


def paired_bootstrap(differences, *, resamples: int = 2000, seed: int = 0, level: float = 0.95) -> dict | None:
    """A percentile bootstrap over items of the mean of per-item differences (second − first),
    seeded so the same items give the same interval."""
    import numpy as np

    values = np.asarray([d for d in differences if d is not None], dtype=float)
    if values.size == 0:
        return None
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, values.size, size=(resamples, values.size))].mean(axis=1)
    tail = (1 - level) / 2
    low, high = np.percentile(means, [100 * tail, 100 * (1 - tail)])
    return {"mean": round(float(values.mean()), 4), "low": round(float(low), 4), "high": round(float(high), 4),
            "resamples": resamples, "seed": seed, "level": level, "count": int(values.size)}


def clopper_pearson_upper(failures: int, trials: int, confidence: float = 0.95) -> float | None:
    """The one-sided Clopper–Pearson upper bound on a rate: the largest p at which seeing at most
    `failures` of `trials` still has probability ≥ 1 − confidence (the Beta(k + 1, n − k) quantile;
    scipy.stats.beta.ppf gives the same). Found by bisection on the exact binomial tail, which
    falls as p grows. None with no trials."""
    if trials <= 0:
        return None
    if failures >= trials:
        return 1.0
    alpha = 1 - confidence

    import numpy as np

    k = np.arange(failures + 1)
    log_choose = math.lgamma(trials + 1) - np.array([math.lgamma(i + 1) + math.lgamma(trials - i + 1) for i in k])

    def at_most(p: float) -> float:  # in logs: the binomial coefficients overflow a float past ~1,000 trials
        return float(np.exp(log_choose + k * math.log(p) + (trials - k) * math.log1p(-p)).sum())

    low, high = failures / trials, 1.0
    for _ in range(60):
        middle = (low + high) / 2
        if at_most(middle) > alpha:
            low = middle
        else:
            high = middle
    return high


def votes_to_bound(failures: int, trials: int, *, target: float, confidence: float = 0.95, limit: int = 10_000) -> int | None:
    """How many more items, failing at the rate seen so far, bring the Clopper–Pearson upper bound
    under `target`: 0 when it already is, None when no number can (the rate seen is not under it)."""
    if trials > 0 and clopper_pearson_upper(failures, trials, confidence) <= target:
        return 0
    observed = failures / trials if trials else 0.0
    if observed >= target:
        return None

    def under(n: int) -> bool:
        return clopper_pearson_upper(math.floor(observed * n), n, confidence) <= target

    low, high = max(trials, 1), max(trials, 1)
    while not under(high):
        if high > limit:
            return None
        low, high = high, high * 2
    while high - low > 1:  # the bound falls as items accumulate at a fixed rate (up to rounding)
        middle = (low + high) // 2
        low, high = (low, middle) if under(middle) else (middle, high)
    return high - trials
