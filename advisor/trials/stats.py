"""Comparisons from what users ran and voted: win rates and measured medians per model.

The caller says which runs and votes count (`runs`, `votes`: querysets), so that a user's
comparison holds only what that user may see; see advisor.web.trial_presenter.visible_runs_q.
"""

import statistics
from dataclasses import dataclass

from .models import Status, TrialRun, Vote
from advisor.catalogue.models import LanguageModel

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
    mean_total_ms: float | None = None  # the busy time a month of local work is priced from


@dataclass(frozen=True)
class PairStats:
    a: str
    b: str
    votes: int
    a_wins: int
    b_wins: int
    ties: int
    both_bad: int
    a_name: str = ""  # the catalogue names, for people; a and b are slugs
    b_name: str = ""

    @property
    def a_win_rate(self) -> float | None:
        return self.a_wins / self.votes if self.votes else None

    @property
    def b_win_rate(self) -> float | None:
        return self.b_wins / self.votes if self.votes else None


def _median(values) -> float | None:
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 2) if values else None


def model_stats(slug: str, *, runs=None) -> ModelStats:
    runs = list((TrialRun.objects.all() if runs is None else runs).filter(model_slug=slug).values("model_name", "status", "ttft_ms", "tokens_per_s", "total_ms", "cost_usd"))
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
        mean_total_ms=statistics.mean(totals) if (totals := [r["total_ms"] for r in done if r["total_ms"] is not None]) else None,
    )


def pair_stats(a: str, b: str, *, votes=None) -> PairStats:
    """Votes on trials that ran both a and b: a win for whichever of the two won; a tie or "both
    bad" only where they were the trial's only two runs (with more, it says nothing about the pair)."""
    counts = {"a": 0, "b": 0, "tie": 0, "both_bad": 0}
    votes = (Vote.objects.all() if votes is None else votes).filter(trial__runs__model_slug=a).filter(trial__runs__model_slug=b)
    total = 0
    for vote in votes.select_related("winner").prefetch_related("trial__runs").distinct():
        runs = sorted(vote.trial.runs.all(), key=lambda r: r.position)
        slugs = [run.model_slug for run in runs]
        if vote.winner is not None:
            winner = vote.winner.model_slug
        elif vote.choice in ("left", "right") and len(runs) >= 2:  # before winners were stored
            winner = slugs[0] if vote.choice == "left" else slugs[1]
        else:
            winner = None
        if winner in (a, b) and a != b:
            total += 1
            counts["a" if winner == a else "b"] += 1
        elif vote.choice in ("tie", "both_bad") and sorted(slugs) == sorted([a, b]):
            total += 1
            counts[vote.choice] += 1
    names = dict(LanguageModel.objects.filter(slug__in=[a, b]).values_list("slug", "name"))
    return PairStats(a=a, b=b, votes=total, a_wins=counts["a"], b_wins=counts["b"], ties=counts["tie"], both_bad=counts["both_bad"],
                     a_name=names.get(a, a), b_name=names.get(b, b))
