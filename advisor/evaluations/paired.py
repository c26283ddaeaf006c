"""Is the second model better than the first on the same items? Paired statistics for an
evaluation's pair: reference checks and votes (the owner's, the judge's), each with McNemar's exact
test on the items where the two differ and a paired bootstrap of the difference, with counts."""

from . import judge as judging
from .models import Verdict
from .stats import mcnemar_exact, paired_bootstrap

SIGNIFICANCE = 0.05


def _sentence(*, what: str, n: int, only_first: int, only_second: int, p_value: float | None, first: str, second: str) -> str:
    if n == 0:
        return f"{what}: nothing to compare yet."
    counts = f"{second} better on {only_second}, {first} better on {only_first}, the same on {n - only_first - only_second} of {n}"
    if p_value is None:
        return f"{what}: {counts}; no item tells them apart."
    verdict = (f"{second if only_second > only_first else first} is better, unlikely to be chance" if p_value < SIGNIFICANCE
               else "no evidence either is better (it could be chance)")
    return f"{what}: {counts} (McNemar exact p = {p_value:.3g} on {only_first + only_second} that differ): {verdict}."


def _paired(outcomes: list[int], *, what: str, first: str, second: str) -> dict:
    """outcomes: per item +1 (second better), −1 (first better), 0 (the same)."""
    only_second, only_first = outcomes.count(1), outcomes.count(-1)
    p_value = mcnemar_exact(only_first, only_second)
    return {
        "count": len(outcomes), "only_first": only_first, "only_second": only_second, "same": len(outcomes) - only_first - only_second,
        "test": "McNemar exact (two-sided binomial on the items that differ)",
        "p_value": None if p_value is None else round(p_value, 6),
        "difference": paired_bootstrap(outcomes),  # mean of (second − first) per item, with its 95 % interval
        "sentence": _sentence(what=what, n=len(outcomes), only_first=only_first, only_second=only_second,
                              p_value=p_value, first=first, second=second),
    }


def _vote_outcome(winner: str | None, first_slug: str, second_slug: str) -> int | None:
    if winner in (None, judging.UNPARSED):
        return None
    if winner == second_slug:
        return 1
    if winner == first_slug:
        return -1
    return 0 if winner in (Verdict.TIE, Verdict.BOTH_BAD) else None


def paired_figures(*, runs, pair: tuple[str, str], names: dict, user_votes: dict, judge_votes: dict) -> dict:
    """The pair's paired statistics. `runs`: the evaluation's runs; votes: item id → stored winner."""
    first_slug, second_slug = pair
    first, second = names.get(first_slug, first_slug), names.get(second_slug, second_slug)
    checks: dict[tuple[int, int], dict] = {}
    for run in runs:
        if run.model_slug in pair and run.passed is not None:
            checks.setdefault((run.item_id, run.repeat), {})[run.model_slug] = run.passed
    reference = [int(both[second_slug]) - int(both[first_slug]) for both in checks.values() if len(both) == 2]

    def votes(found: dict) -> list[int]:
        return [o for o in (_vote_outcome(w, first_slug, second_slug) for w in found.values()) if o is not None]

    return {
        "first": first_slug, "second": second_slug,
        "question": f"Is {second} better than {first} on the same items?",
        "reference": _paired(reference, what="Reference checks", first=first, second=second),
        "votes": _paired(votes(user_votes), what="Your votes", first=first, second=second),
        "judge": _paired(votes(judge_votes), what="The judge's verdicts", first=first, second=second),
    }
