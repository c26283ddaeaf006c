"""Comparisons from what users ran and voted: win rates and measured medians per model.

The caller says which runs and votes count (`runs`, `votes`: querysets), so that a user's
comparison holds only what that user may see; see advisor.web.trial_presenter.visible_runs_q.
"""

import statistics
from dataclasses import dataclass

from django.db.models import Avg, Case, Count, Exists, F, OuterRef, Q, Subquery, Sum, When

from advisor.catalogue.models import LanguageModel

from .models import Status, TrialRun, Vote

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


MEDIANS = ("ttft_ms", "tokens_per_s", "total_ms")


def _sql_median(done, field: str, count: int) -> float | None:
    """The median of `field` over `done` (of which `count` rows have it): the middle one or two
    rows, sorted and picked by the database, so that no list of runs comes into Python."""
    if not count:
        return None
    middle = done.exclude(**{f"{field}__isnull": True}).order_by(field).values_list(field, flat=True)[(count - 1) // 2: count // 2 + 1]
    return round(statistics.mean(middle), 2)


def model_stats(slug: str, *, runs=None) -> ModelStats:
    """Counts, sums and medians in SQL: a handful of queries whatever the number of runs."""
    runs = (TrialRun.objects.all() if runs is None else runs).filter(model_slug=slug)
    done_q, priced_q = Q(status=Status.DONE), Q(status=Status.DONE, cost_usd__isnull=False)
    totals = runs.aggregate(
        runs=Count("pk"), failed=Count("pk", filter=Q(status=Status.FAILED)),
        priced=Count("pk", filter=priced_q), cost=Sum("cost_usd", filter=priced_q),
        **{f"n_{field}": Count(field, filter=done_q) for field in MEDIANS},
    )
    done = runs.filter(done_q)
    medians = {field: _sql_median(done, field, totals[f"n_{field}"]) for field in MEDIANS}
    name = runs.values_list("model_name", flat=True).first() if totals["runs"] else None
    return ModelStats(
        slug=slug,
        name=name or slug,
        runs=totals["runs"],
        failed=totals["failed"],
        median_ttft_ms=medians["ttft_ms"],
        median_tokens_per_s=medians["tokens_per_s"],
        median_total_ms=medians["total_ms"],
        # Unrounded: runs cost fractions of a cent, and rounding first showed them as $0.0.
        # 1,000 × the mean cost of the priced runs, as pricing.cost_per_1k_requests counts it.
        cost_per_1k_requests_usd=1000 * totals["cost"] / totals["priced"] if totals["priced"] else None,
        priced_runs=totals["priced"],
        mean_total_ms=done.aggregate(mean=Avg("total_ms"))["mean"],
    )


def pair_stats(a: str, b: str, *, votes=None) -> PairStats:
    """Votes on trials that ran both a and b: a win for whichever of the two won; a tie or "both
    bad" only where they were the trial's only two runs (with more, it says nothing about the pair).
    Counted by the database in one query."""
    names = dict(LanguageModel.objects.filter(slug__in=[a, b]).values_list("slug", "name"))
    if a == b:
        return PairStats(a=a, b=b, votes=0, a_wins=0, b_wins=0, ties=0, both_bad=0, a_name=names.get(a, a), b_name=names.get(b, b))
    trial_runs = TrialRun.objects.filter(trial=OuterRef("trial"))
    by_position = trial_runs.order_by("position").values("model_slug")
    # A vote from before winners were stored names a column: the first or second run.
    winner = Case(When(winner__isnull=False, then=F("winner__model_slug")),
                  When(choice="left", then=Subquery(by_position[:1])),
                  When(choice="right", then=Subquery(by_position[1:2])), default=None)
    run_count = Subquery(trial_runs.values("trial").annotate(count=Count("pk")).values("count"))
    votes = (Vote.objects.all() if votes is None else votes).filter(
        Exists(trial_runs.filter(model_slug=a)), Exists(trial_runs.filter(model_slug=b)),
    ).annotate(winner_slug=winner, runs_in_trial=run_count)
    counts = votes.aggregate(
        a=Count("pk", filter=Q(winner_slug=a)), b=Count("pk", filter=Q(winner_slug=b)),
        tie=Count("pk", filter=Q(choice="tie", runs_in_trial=2)), both_bad=Count("pk", filter=Q(choice="both_bad", runs_in_trial=2)),
    )
    return PairStats(a=a, b=b, votes=sum(counts.values()), a_wins=counts["a"], b_wins=counts["b"], ties=counts["tie"], both_bad=counts["both_bad"],
                     a_name=names.get(a, a), b_name=names.get(b, b))
