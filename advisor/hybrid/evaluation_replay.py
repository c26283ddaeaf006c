"""The replay of an evaluation: its SLM and LLM runs and its verdicts as ReplayItems, straight from
the evaluation's rows (advisor.evaluations.evidence), so no model is called again.

Which verdict counts for an item, for the pair (slm, llm):
- the owner's vote, else the judge's combined verdict — only when the pair is the evaluation's
  own pair (its first two models): votes and the judge compare those two and nothing else;
- else the reference checks, when both runs have `passed` (true → 1, false → 0).
A judge verdict "unparsed" is no verdict. Each model's first repeat is the run that was voted on,
so its confidence and cost are the ones replayed.
"""

from dataclasses import dataclass

from advisor.hybrid.cascade import DEFAULT_SIGNAL, confidence_signal
from advisor.hybrid.evaluation_items import verdict_for_pair
from advisor.hybrid.replay import ReplayItem


class ReplayRejected(ValueError):
    """A bad request for a replay; `errors` is the API's {"field": [message]}, `status` its HTTP code."""

    def __init__(self, errors: dict, status: int = 400):
        super().__init__("; ".join(m for ms in errors.values() for m in ms))
        self.errors, self.status = errors, status


@dataclass(frozen=True)
class ReplaySource:
    items: list[ReplayItem]
    slm: str
    llm: str
    votes_apply: bool  # the pair is the evaluation's own, so its votes and judge verdicts count
    suite_name: str
    requests_per_day: int


def evaluation_pair_check(evaluation, *, slm: str | None, llm: str | None) -> tuple[str, str]:
    """The (slm, llm) slugs for a replay of this evaluation; 400 naming the field when one is bad.
    Either may be left out: the evaluation's first two models fill it (the SLM being the one that is)."""
    from advisor.catalogue.models import LanguageModel

    slugs = list(evaluation.model_slugs)
    if not slm or not llm:
        pair = list(evaluation.pair or ())
        if len(pair) == 2:
            models = {m.slug: m for m in LanguageModel.objects.filter(slug__in=pair)}
            small = [s for s in pair if s in models and models[s].is_slm]
            default_slm = small[0] if small else pair[0]
            default_llm = pair[1] if default_slm == pair[0] else pair[0]
            slm, llm = slm or default_slm, llm or default_llm
    errors = {}
    for field, slug in (("slm", slm), ("llm", llm)):
        if not slug:
            errors[field] = [f"Name the {field.upper()}: one of this evaluation's models ({', '.join(slugs)})."]
        elif slug not in slugs:
            errors[field] = [f"{slug!r} is not one of this evaluation's models ({', '.join(slugs)})."]
    if not errors and slm == llm:
        errors["llm"] = ["Must be a different model from slm."]
    if errors:
        raise ReplayRejected(errors)
    return slm, llm


def evaluation_replay_source(evaluation, *, slm: str, llm: str, signal: str = DEFAULT_SIGNAL) -> ReplaySource:
    from advisor.evaluations.evidence import evaluation_evidence
    from advisor.evaluations.judge import UNPARSED
    from advisor.evaluations.report import volume_of

    votes_apply = set(evaluation.pair or ()) == {slm, llm}
    items = []
    for evidence in evaluation_evidence(evaluation):
        slm_run, llm_run = evidence.runs.get(slm), evidence.runs.get(llm)
        if slm_run is None or llm_run is None:
            continue  # nothing to replay: one model has no done run on this item
        verdict = None
        if votes_apply:
            judge = None if evidence.judge_winner == UNPARSED else evidence.judge_winner
            verdict = verdict_for_pair(evidence.user_winner, slm=slm, llm=llm) or verdict_for_pair(judge, slm=slm, llm=llm)
        slm_quality = llm_quality = None
        if verdict is None and slm_run.passed is not None and llm_run.passed is not None:
            slm_quality, llm_quality = float(slm_run.passed), float(llm_run.passed)
        items.append(ReplayItem(
            confidence=confidence_signal(slm_run.confidence, signal),
            slm_cost_usd=slm_run.cost_usd or 0.0, llm_cost_usd=llm_run.cost_usd or 0.0,
            verdict=verdict, slm_quality=slm_quality, llm_quality=llm_quality, key=str(evidence.index),
        ))
    return ReplaySource(items=items, slm=slm, llm=llm, votes_apply=votes_apply,
                        suite_name=evaluation.suite.name, requests_per_day=volume_of(evaluation))
