"""Comparisons from what users ran and voted: win rates and measured medians per model."""

import statistics
from dataclasses import dataclass

from .models import Status, TrialRun, Vote
from .pricing import cost_per_1k_requests


@dataclass(frozen=True)
class ModelStats:
    slug: str
    name: str
    runs: int
    failed: int
    median_ttft_ms: float | None
    median_tokens_per_s: float | None
    median_total_ms: float | None
    cost_per_1k_requests_usd: float | None
    priced_runs: int = 0  # the done runs with a cost, that the cost per 1,000 is over


@dataclass(frozen=True)
class PairStats:
    a: str
    b: str
    votes: int
    a_wins: int
    b_wins: int
    ties: int
    both_bad: int

    @property
    def a_win_rate(self) -> float | None:
        return self.a_wins / self.votes if self.votes else None

    @property
    def b_win_rate(self) -> float | None:
        return self.b_wins / self.votes if self.votes else None


def _median(values) -> float | None:
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 2) if values else None


def model_stats(slug: str) -> ModelStats:
    runs = list(TrialRun.objects.filter(model_slug=slug).values("model_name", "status", "ttft_ms", "tokens_per_s", "total_ms", "cost_usd"))
    done = [r for r in runs if r["status"] == Status.DONE]
    costs = [r["cost_usd"] for r in done if r["cost_usd"] is not None]
    return ModelStats(
        slug=slug,
        name=runs[0]["model_name"] if runs else slug,
        runs=len(runs),
        failed=sum(r["status"] == Status.FAILED for r in runs),
        median_ttft_ms=_median(r["ttft_ms"] for r in done),
        median_tokens_per_s=_median(r["tokens_per_s"] for r in done),
        median_total_ms=_median(r["total_ms"] for r in done),
        # Unrounded: runs cost fractions of a cent, and rounding first showed them as $0.0.
        cost_per_1k_requests_usd=cost_per_1k_requests(costs),
        priced_runs=len(costs),
    )


def pair_stats(a: str, b: str) -> PairStats:
    """Votes on trials whose first two runs were a and b (in either order)."""
    counts = {"a": 0, "b": 0, "tie": 0, "both_bad": 0}
    votes = Vote.objects.filter(trial__runs__model_slug=a).filter(trial__runs__model_slug=b).prefetch_related("trial__runs").distinct()
    total = 0
    for vote in votes:
        left_right = [run.model_slug for run in sorted(vote.trial.runs.all(), key=lambda r: r.position)[:2]]
        if sorted(left_right) != sorted([a, b]):
            continue
        total += 1
        if vote.choice in ("tie", "both_bad"):
            counts[vote.choice] += 1
        else:
            winner = left_right[0] if vote.choice == "left" else left_right[1]
            counts["a" if winner == a else "b"] += 1
    return PairStats(a=a, b=b, votes=total, a_wins=counts["a"], b_wins=counts["b"], ties=counts["tie"], both_bad=counts["both_bad"])
