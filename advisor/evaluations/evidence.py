"""The evidence of an evaluation in the shape the hybrid replay reads: per item, per model, the done
run (first repeat) with its output, confidence and cost, and the owner's and the judge's verdict on
the pair (a winner's slug, "tie", "both_bad", "unparsed" or None)."""

from dataclasses import dataclass, field

from . import judge as judging
from .models import Evaluation, EvaluationRun, ItemVote, JudgeStatus, JudgeVerdict, RunStatus


@dataclass(frozen=True)
class RunEvidence:
    output: str
    confidence: dict | None
    cost_usd: float | None
    total_ms: int | None
    passed: bool | None


@dataclass
class ItemEvidence:
    index: int
    item_id: int
    runs: dict[str, RunEvidence] = field(default_factory=dict)  # model slug → its done run
    user_winner: str | None = None
    judge_winner: str | None = None


def evaluation_evidence(evaluation: Evaluation, *, repeat: int = 0) -> list[ItemEvidence]:
    items = {item.pk: ItemEvidence(index=item.position, item_id=item.pk) for item in evaluation.suite.items.all()}
    for run in EvaluationRun.objects.filter(evaluation=evaluation, repeat=repeat, status=RunStatus.DONE):
        items[run.item_id].runs[run.model_slug] = RunEvidence(run.output, run.confidence, run.cost_usd, run.total_ms, run.passed)
    for vote in ItemVote.objects.filter(evaluation=evaluation, voter_id=evaluation.owner_id):
        items[vote.item_id].user_winner = vote.winner
    orders: dict[int, list[str]] = {}
    for verdict in JudgeVerdict.objects.filter(evaluation=evaluation, status=JudgeStatus.DONE):
        orders.setdefault(verdict.item_id, []).append(verdict.winner)
    for item_id, found in orders.items():
        items[item_id].judge_winner = judging.combine(found)
    return sorted(items.values(), key=lambda e: e.index)
