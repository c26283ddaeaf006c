"""A run's confidence from its tokens' log-probabilities (natural log, of the token chosen).

Only meaningful under fixed decoding (greedy, the same chat template): the same answer then has
the same confidence from one run to the next. `score` is the figure a hybrid threshold applies
to, in 0..1, higher meaning surer: the 10th-percentile token probability, since a low quantile
is not biased by length the way the mean and the sum are (Gupta et al., ICLR 2024).
"""

import math


def confidence_summary(token_logprobs: list[float]) -> dict | None:
    if not token_logprobs:
        return None
    probs = sorted(math.exp(lp) for lp in token_logprobs)
    p10 = _quantile(probs, 0.10)
    return {
        "score": round(p10, 6),
        "mean_logprob": round(sum(token_logprobs) / len(token_logprobs), 6),
        "min_token_prob": round(probs[0], 6),
        "p10_token_prob": round(p10, 6),
        "tokens": len(token_logprobs),
    }


def _quantile(sorted_values: list[float], q: float) -> float:
    # Linear interpolation between closest ranks (numpy's default).
    position = (len(sorted_values) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)
