"""What an evaluation does: suites in, an evaluation started under its limits, its runs dispatched
to the workers a few at a time per model, the owner's votes recorded.

Running one run (and one judgement) lives in `execution.py`; the figures in `report.py`.
"""

import datetime
import functools
import logging
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from advisor.trials.reply_length import DEFAULT_MAX_TOKENS
from advisor.catalogue.models import LanguageModel, Provider
from advisor.runs import ledger
from advisor.runs.models import SpendReservation
from advisor.runs.registry import queue_for
from advisor.runs.core import worker_gone

from . import judge as judging
from . import limits
from .models import (
    RUN_IN_FLIGHT, EvalStatus, Evaluation, EvaluationRun, ItemVote, JudgeStatus, JudgeVerdict, RunStatus, Suite, SuiteItem,
    Verdict,
)

log = logging.getLogger(__name__)
NOT_QUEUED = "The run could not be queued: the task queue (broker) did not answer. Check that it and the worker are running (scripts/run starts both), then start the evaluation again."


class EvaluationRejected(Exception):
    """The request breaks a rule; `errors` maps the field to messages, as forms and the API show them."""

    def __init__(self, errors: dict[str, list[str]], status: int = 400):
        self.errors = errors
        self.status = status
        super().__init__(errors)


# --- Suites ---------------------------------------------------------------------------------------


def _replace_items(suite: Suite, items: list[dict]) -> None:
    suite.items.all().delete()
    SuiteItem.objects.bulk_create([
        SuiteItem(suite=suite, position=position, prompt=item["prompt"], system=item.get("system") or "",
                  expected=item.get("expected"), check_kind=item.get("check") or "contains", tags=item.get("tags") or [])
        for position, item in enumerate(items)
    ])


def _check_item_count(items: list[dict]) -> None:
    if not items:
        raise EvaluationRejected({"items": ["Give at least one prompt."]})
    if len(items) > settings.EVAL_MAX_ITEMS:
        raise EvaluationRejected({"items": [f"At most {settings.EVAL_MAX_ITEMS} prompts in a suite; this has {len(items)}."]})


@transaction.atomic
def suite_create(*, owner, name: str, items: list[dict], description: str = "", recommendation=None) -> Suite:
    _check_item_count(items)
    suite = Suite.objects.create(owner=owner, name=name.strip()[:120] or "My prompts", description=description,
                                 recommendation=recommendation)
    _replace_items(suite, items)
    return suite


@transaction.atomic
def suite_update(*, suite: Suite, name: str, items: list[dict], description: str = "") -> Suite:
    _check_item_count(items)
    if suite.evaluations.exists():
        # Evaluations point at the items they ran: keep those, edit a copy.
        raise EvaluationRejected({"items": ["This suite has evaluations, whose results refer to its prompts: duplicate it and edit the copy."]})
    Suite.objects.filter(pk=suite.pk).update(name=name.strip()[:120] or suite.name, description=description, updated_at=timezone.now())
    _replace_items(suite, items)
    suite.refresh_from_db()
    return suite


@transaction.atomic
def suite_duplicate(*, suite: Suite, owner, recommendation=None) -> Suite:
    copy = Suite.objects.create(owner=owner, name=f"{suite.name} (copy)"[:120], description=suite.description, task=suite.task,
                                recommendation=recommendation)
    SuiteItem.objects.bulk_create([
        SuiteItem(suite=copy, position=item.position, prompt=item.prompt, system=item.system, expected=item.expected,
                  check_kind=item.check_kind, tags=item.tags)
        for item in suite.items.all()
    ])
    return copy


# --- Starting an evaluation ---------------------------------------------------------------------------


@dataclass(frozen=True)
class EvaluationRequest:
    suite: Suite
    models: list[str]
    repeats: int = 1
    max_tokens: int = DEFAULT_MAX_TOKENS
    temperature: float = 0.0
    judge: str | None = None
    judge_max_tokens: int | None = None
    requests_per_day: int | None = None
    recommendation_id: str | None = None
    judge_anyway: bool = False  # use a judge the catalogue does not mark able to judge


@dataclass
class Plan:
    """What an evaluation will run and what it can cost at most, shown before it starts."""

    models: list[LanguageModel]
    judge: LanguageModel | None
    items: list[SuiteItem]
    repeats: int
    runs: int
    judgements: int
    worst_case_by_model: dict[str, float] = field(default_factory=dict)
    worst_case_judge_usd: float = 0.0

    @property
    def worst_case_usd(self) -> float:
        return sum(self.worst_case_by_model.values()) + self.worst_case_judge_usd

    @property
    def paid(self) -> bool:
        return self.worst_case_usd > 0


def concurrency_for(model: LanguageModel) -> int:
    if model.provider.kind == Provider.Kind.TRANSFORMERS:
        return max(1, settings.EVAL_MAX_CONCURRENCY_PER_LOCAL_MODEL)
    return max(1, settings.EVAL_MAX_CONCURRENCY_PER_MODEL)


def judge_max_tokens(request: EvaluationRequest) -> int:
    return request.judge_max_tokens or settings.EVAL_JUDGE_MAX_TOKENS


def judge_refusal(judge: LanguageModel) -> str:
    able = ", ".join(LanguageModel.objects.active().filter(can_judge=True).order_by("name").values_list("name", flat=True)[:6])
    return (f"{judge.name} is too small to judge: the catalogue does not mark it able to judge, and a small model mostly answers "
            f"without a readable verdict or picks a position, not the better answer. Choose a model able to judge"
            f"{f' ({able})' if able else ''}, or ask to use it anyway (judge_anyway) knowing its verdicts may be unparsed.")


def evaluation_plan(*, request: EvaluationRequest) -> Plan:
    """The models, runs and worst-case cost of a request; raises EvaluationRejected naming the field."""
    slugs = list(dict.fromkeys(request.models))
    if len(slugs) < 2:
        raise EvaluationRejected({"models": ["Pick at least two different models to compare."]})
    if len(slugs) > settings.TRIAL_MAX_MODELS:
        raise EvaluationRejected({"models": [f"Pick at most {settings.TRIAL_MAX_MODELS} models."]})
    wanted = set(slugs) | ({request.judge} if request.judge else set())
    found = {m.slug: m for m in LanguageModel.objects.active().select_related("provider").filter(slug__in=wanted)}
    unknown = [slug for slug in slugs if slug not in found]
    if unknown:
        raise EvaluationRejected({"models": [f"Unknown or inactive model: {', '.join(unknown)}."]})
    if request.judge and request.judge not in found:
        raise EvaluationRejected({"judge": [f"Unknown or inactive model: {request.judge}."]})
    if not 1 <= request.repeats <= 5:
        raise EvaluationRejected({"repeats": ["Repeats must be between 1 and 5."]})
    if not 1 <= request.max_tokens <= settings.TRIAL_MAX_TOKENS:
        raise EvaluationRejected({"max_tokens": [f"Max tokens must be between 1 and {settings.TRIAL_MAX_TOKENS}."]})
    if not 0 <= request.temperature <= 2:
        raise EvaluationRejected({"temperature": ["Temperature must be between 0 and 2."]})
    models = [found[slug] for slug in slugs]
    judge = found.get(request.judge) if request.judge else None
    if judge and not judge.can_judge and not request.judge_anyway:
        raise EvaluationRejected({"judge": [judge_refusal(judge)]})
    items = list(request.suite.items.all())
    if not items:
        raise EvaluationRejected({"suite": ["This suite has no prompts."]})
    runs = len(items) * len(models) * request.repeats
    if runs > settings.EVAL_MAX_RUNS:
        raise EvaluationRejected({"repeats": [f"That is {runs} runs; at most {settings.EVAL_MAX_RUNS} fit in one evaluation. Use fewer prompts, models or repeats."]})
    prompt_tokens = [limits.prompt_tokens_upper_bound(item.system, item.prompt) for item in items]
    plan = Plan(models=models, judge=judge, items=items, repeats=request.repeats, runs=runs,
                judgements=2 * len(items) if judge else 0)
    for model in models:
        plan.worst_case_by_model[model.slug] = request.repeats * sum(
            limits.worst_case_cost_usd(model, tokens, request.max_tokens) for tokens in prompt_tokens)
    if judge:
        # The judge reads its instructions, the question, the reference and both answers, each at
        # most what a run may receive (the output cap) and what the judge's prompt keeps of it.
        answer_bytes = min(ledger.output_bytes_cap(request.max_tokens), 4 * judging.MAX_ANSWER_CHARS)
        judge_prompt = [limits.prompt_tokens_upper_bound(*judging.judge_prompt(question=item.prompt, answer_a="", answer_b="", expected=item.expected))
                        + 2 * answer_bytes for item in items]
        plan.worst_case_judge_usd = 2 * sum(limits.worst_case_cost_usd(judge, tokens, judge_max_tokens(request)) for tokens in judge_prompt)
    return plan


def _check_evaluation_cap(plan: Plan) -> None:
    if plan.worst_case_usd > settings.EVAL_SPEND_CAP_USD:
        raise EvaluationRejected(
            {"max_tokens": [f"At worst this evaluation costs ${plan.worst_case_usd:.2f} on paid models, over the ${settings.EVAL_SPEND_CAP_USD:.2f} cap for one evaluation (EVAL_SPEND_CAP_USD). Lower max tokens, repeats or the number of prompts."]},
            status=429)


def evaluation_calls(evaluation_id, plan: Plan) -> list[ledger.SpendCall]:
    """The evaluation's entries in the spend ledger: its runs, and its judge calls when it has a judge."""
    subject = limits.evaluation_subject(evaluation_id)
    calls = [ledger.SpendCall(ledger.SpendKind.EVALUATION, subject, sum(plan.worst_case_by_model.values()), ",".join(plan.worst_case_by_model))]
    if plan.judge:
        calls.append(ledger.SpendCall(ledger.SpendKind.JUDGE, subject, plan.worst_case_judge_usd, plan.judge.slug))
    return calls


def evaluation_start(*, owner, request: EvaluationRequest) -> Evaluation:
    """Create the evaluation and all its runs (pending), then send each model's first runs once committed.
    Its worst case is reserved in the spend ledger first, in the same transaction: a refused start creates nothing."""
    plan = evaluation_plan(request=request)
    _check_evaluation_cap(plan)
    evaluation_id = uuid.uuid4()
    with transaction.atomic():
        try:
            ledger.spend_reserve(owner=owner, calls=evaluation_calls(evaluation_id, plan))
        except ledger.SpendRefused as exc:
            raise EvaluationRejected({"models" if exc.limit == "in_flight" else "max_tokens": [exc.message]}, status=429) from exc
        evaluation = Evaluation.objects.create(
            id=evaluation_id, owner=owner, suite=request.suite, model_slugs=[m.slug for m in plan.models], repeats=request.repeats,
            max_tokens=request.max_tokens, temperature=request.temperature, judge=plan.judge,
            judge_slug=plan.judge.slug if plan.judge else "", judge_max_tokens=judge_max_tokens(request),
            requests_per_day=request.requests_per_day, recommendation_id=request.recommendation_id,
            worst_case_cost_usd=round(plan.worst_case_usd, 6),
        )
        EvaluationRun.objects.bulk_create([
            EvaluationRun(evaluation=evaluation, item=item, model=model, model_slug=model.slug, model_name=model.name,
                          queue=queue_for(model), repeat=repeat)
            for item in plan.items for repeat in range(request.repeats) for model in plan.models
        ])
        for model in plan.models:
            transaction.on_commit(functools.partial(dispatch, evaluation.pk, model.slug))
    return evaluation


# --- Retrying failed runs ---------------------------------------------------------------------------------

RUN_RESET = {"status": RunStatus.PENDING, "output": "", "error": "", "attempts": 0, "ttft_ms": None, "total_ms": None,
             "input_tokens": None, "output_tokens": None, "tokens_per_s": None, "cost_usd": None, "cost_basis": "",
             "confidence": None, "passed": None, "queued_at": None, "started_at": None, "finished_at": None,
             "worker_host": "", "worker_pid": None}


def evaluation_retry(*, evaluation: Evaluation) -> int:
    """Queue a finished evaluation's failed runs again, and only those: each goes back to pending and
    the evaluation's own dispatcher sends it. Their worst case (and the judge calls their items will
    need) is reserved in the spend ledger under the same limits as a start. Returns how many."""
    if evaluation.status == EvalStatus.CANCELLED:
        raise EvaluationRejected({"runs": ["This evaluation was cancelled: start a new one rather than retry it."]})
    if not evaluation.finished:
        raise EvaluationRejected({"runs": ["This evaluation is still running: retry its failed runs once it ends."]})
    failed = list(EvaluationRun.objects.filter(evaluation=evaluation, status=RunStatus.FAILED).select_related("evaluation", "item", "model__provider"))
    if not failed:
        raise EvaluationRejected({"runs": ["No failed runs to retry."]})
    if missing := sorted({run.model_slug for run in failed if run.model is None}):
        raise EvaluationRejected({"runs": [f"{', '.join(missing)} left the catalogue; its runs cannot be retried."]})
    subject = limits.evaluation_subject(evaluation.pk)
    runs_usd = sum(run_worst_case_usd(run) for run in failed)
    if runs_usd > settings.EVAL_SPEND_CAP_USD:
        raise EvaluationRejected({"runs": [f"At worst these runs cost ${runs_usd:.2f}, over the ${settings.EVAL_SPEND_CAP_USD:.2f} cap for one evaluation (EVAL_SPEND_CAP_USD)."]}, status=429)
    calls = [ledger.SpendCall(ledger.SpendKind.EVALUATION, subject, runs_usd, ",".join(sorted({run.model_slug for run in failed})))]
    judged_items = {run.item_id for run in failed if run.repeat == 0 and evaluation.pair and run.model_slug in evaluation.pair}
    if evaluation.judge_id and judged_items:
        calls.append(ledger.SpendCall(ledger.SpendKind.JUDGE, subject, 2 * len(judged_items) * _judge_call_worst_case_usd(evaluation),
                                      evaluation.judge_slug))
    with transaction.atomic():
        try:
            ledger.spend_reserve_again(owner=evaluation.owner, calls=calls)
        except ledger.SpendRefused as exc:
            raise EvaluationRejected({"runs": [exc.message]}, status=429) from exc
        retried = EvaluationRun.objects.filter(pk__in=[run.pk for run in failed], status=RunStatus.FAILED).update(**RUN_RESET)
        Evaluation.objects.filter(pk=evaluation.pk, status__in=[EvalStatus.DONE, EvalStatus.FAILED]).update(
            status=EvalStatus.QUEUED, finished_at=None)
        for slug in sorted({run.model_slug for run in failed}):
            transaction.on_commit(functools.partial(dispatch, evaluation.pk, slug))
    evaluation.refresh_from_db(fields=["status", "finished_at"])
    return retried


# --- Dispatching runs, a few at a time per model ---------------------------------------------------------


def _send_run(run_id: int, queue: str) -> None:
    from .tasks import evaluation_run_execute

    try:
        evaluation_run_execute.apply_async((run_id,), queue=queue)
    except Exception:
        log.exception("Could not queue evaluation run %s", run_id)
        now = timezone.now()
        EvaluationRun.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(status=RunStatus.FAILED, error=NOT_QUEUED, finished_at=now)
        evaluation_settle(EvaluationRun.objects.get(pk=run_id).evaluation_id)


def dispatch(evaluation_id, model_slug: str) -> int:
    """Send pending runs of one model until it has its concurrency's worth queued or running.
    Dispatchers are serialised on the evaluation row, so two never fill the same free slot."""
    sent = []
    with transaction.atomic():
        evaluation = Evaluation.objects.select_for_update().filter(pk=evaluation_id).first()
        if evaluation is None or evaluation.finished:
            return 0
        runs = EvaluationRun.objects.filter(evaluation_id=evaluation_id, model_slug=model_slug)
        first = runs.select_related("model__provider").first()
        if first is None or first.model is None:
            return 0
        free = concurrency_for(first.model) - runs.filter(status__in=RUN_IN_FLIGHT).count()
        if free <= 0:
            return 0
        ids = list(runs.filter(status=RunStatus.PENDING).order_by("item__position", "repeat").values_list("pk", flat=True)[:free])
        for run_id in ids:
            if runs.filter(pk=run_id, status=RunStatus.PENDING).update(status=RunStatus.QUEUED, queued_at=timezone.now()):
                sent.append(run_id)
                transaction.on_commit(functools.partial(_send_run, run_id, first.queue))
    return len(sent)


def evaluation_settle(evaluation_id) -> None:
    """Mark the evaluation finished and settle its spend once nothing of it is left to run (runs and judgements)."""
    runs = EvaluationRun.objects.filter(evaluation_id=evaluation_id)
    if runs.filter(status__in=[RunStatus.PENDING, *RUN_IN_FLIGHT]).exists():
        return
    if JudgeVerdict.objects.filter(evaluation_id=evaluation_id, status__in=[JudgeStatus.QUEUED, JudgeStatus.RUNNING]).exists():
        return
    status = EvalStatus.DONE if runs.filter(status=RunStatus.DONE).exists() else EvalStatus.FAILED
    with transaction.atomic():
        Evaluation.objects.filter(pk=evaluation_id, status__in=[EvalStatus.QUEUED, EvalStatus.RUNNING]).update(status=status, finished_at=timezone.now())
        # Nothing of it runs any more (a cancelled one too): its reservations count at what it spent.
        ledger.spend_settle(subject=limits.evaluation_subject(evaluation_id))


def evaluation_cancel(*, evaluation: Evaluation) -> bool:
    """Stop sending runs; runs already executing finish and are kept (they are real measurements)."""
    now = timezone.now()
    with transaction.atomic():
        changed = Evaluation.objects.filter(pk=evaluation.pk, status__in=[EvalStatus.QUEUED, EvalStatus.RUNNING]).update(
            status=EvalStatus.CANCELLED, finished_at=now)
        EvaluationRun.objects.filter(evaluation=evaluation, status__in=[RunStatus.PENDING, RunStatus.QUEUED]).update(
            status=RunStatus.CANCELLED, error="Cancelled before it ran.", finished_at=now)
        JudgeVerdict.objects.filter(evaluation=evaluation, status=JudgeStatus.QUEUED).update(status=JudgeStatus.FAILED, error="Cancelled.")
    evaluation_settle(evaluation.pk)  # settles its spend now, or when its last executing run ends
    return bool(changed)


# --- After a worker died ----------------------------------------------------------------------------

WORKER_GONE = ("The worker running this stopped before it finished (restarted or out of memory). It was not run again, "
               "since the call may already have reached the provider: retry the evaluation's failed runs.")


def run_worst_case_usd(run: EvaluationRun) -> float:
    return ledger.worst_case_cost_usd(run.model, limits.prompt_tokens_upper_bound(run.item.system, run.item.prompt),
                                      run.evaluation.max_tokens) if ledger.is_priced(run.model) else 0.0


def evaluations_sweep(*, resend_queued_after_s: float) -> int:
    """Part of the one periodic sweep (advisor/runs/sweep.py), in the worker, at its start and then
    every TRIAL_SWEEP_EVERY_S: fail the runs and judge calls whose worker is gone (never run again:
    the call may already have reached the provider; their cost counts at its worst case), re-send
    the queued ones waiting longer than `resend_queued_after_s` (a message a dead worker had taken
    may be lost; a duplicate is harmless, a run is claimed once), fill every model's free slots and
    finish what is over. Returns how many rows it changed or re-sent."""
    changed = 0
    now = timezone.now()
    live = Evaluation.objects.filter(status__in=[EvalStatus.QUEUED, EvalStatus.RUNNING])
    for run in EvaluationRun.objects.filter(evaluation__in=live, status=RunStatus.RUNNING).select_related("evaluation", "item", "model"):
        if not worker_gone(run.worker_host, run.worker_pid, run.updated_at):
            continue
        with transaction.atomic():
            if EvaluationRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING, worker_pid=run.worker_pid, worker_host=run.worker_host).update(
                    status=RunStatus.FAILED, finished_at=now, updated_at=now, error=WORKER_GONE):
                ledger.spend_add(subject=limits.evaluation_subject(run.evaluation_id), kind=ledger.SpendKind.EVALUATION, usd=run_worst_case_usd(run))
                changed += 1
    stale = now - datetime.timedelta(seconds=resend_queued_after_s)
    for run in EvaluationRun.objects.filter(evaluation__in=live, status=RunStatus.QUEUED, queued_at__lte=stale):
        if EvaluationRun.objects.filter(pk=run.pk, status=RunStatus.QUEUED).update(queued_at=now):
            _send_run(run.pk, run.queue)
            changed += 1
    for verdict in JudgeVerdict.objects.filter(evaluation__in=live, status__in=[JudgeStatus.QUEUED, JudgeStatus.RUNNING]).select_related("evaluation__judge"):
        if verdict.status == JudgeStatus.RUNNING:
            if worker_gone(verdict.worker_host, verdict.worker_pid, verdict.updated_at):
                with transaction.atomic():
                    if JudgeVerdict.objects.filter(pk=verdict.pk, status=JudgeStatus.RUNNING, worker_pid=verdict.worker_pid,
                                                   worker_host=verdict.worker_host).update(status=JudgeStatus.FAILED, error=WORKER_GONE, updated_at=now):
                        ledger.spend_add(subject=limits.evaluation_subject(verdict.evaluation_id), kind=ledger.SpendKind.JUDGE,
                                         usd=_judgement_worst_case_usd(verdict))
                        changed += 1
        elif verdict.updated_at <= stale and JudgeVerdict.objects.filter(pk=verdict.pk, status=JudgeStatus.QUEUED).update(updated_at=now):
            _send_judgement(verdict.pk, verdict.evaluation.judge)
            changed += 1
    for evaluation in live:
        for slug in evaluation.model_slugs:
            changed += dispatch(evaluation.pk, slug)
        evaluation_settle(evaluation.pk)
    return changed


def _judgement_worst_case_usd(verdict: JudgeVerdict) -> float:
    return _judge_call_worst_case_usd(verdict.evaluation)


def _judge_call_worst_case_usd(evaluation: Evaluation) -> float:
    """One judge call's share of the evaluation's judge reservation (it reserved two a prompt)."""
    calls = 2 * evaluation.suite.items.count() or 1
    reserved = (SpendReservation.objects.filter(subject=limits.evaluation_subject(evaluation.pk), kind=ledger.SpendKind.JUDGE)
                .values_list("reserved_usd", flat=True).first() or 0.0)
    return reserved / calls


# --- Judging ------------------------------------------------------------------------------------------


def _send_judgement(verdict_id: int, judge: LanguageModel | None) -> None:
    from .tasks import evaluation_judge_execute

    if judge is None:
        JudgeVerdict.objects.filter(pk=verdict_id).update(status=JudgeStatus.FAILED, error="The judge model was removed from the catalogue.")
        return
    try:
        evaluation_judge_execute.apply_async((verdict_id,), queue=queue_for(judge))
    except Exception:
        log.exception("Could not queue judgement %s", verdict_id)
        JudgeVerdict.objects.filter(pk=verdict_id, status=JudgeStatus.QUEUED).update(status=JudgeStatus.FAILED, error=NOT_QUEUED)


def judgements_queue_if_ready(*, evaluation: Evaluation, item_id: int) -> None:
    """Once both answers of the pair (first repeat) are in, ask the judge in both orders."""
    if not evaluation.judge_id or not evaluation.pair or evaluation.status == EvalStatus.CANCELLED:
        return
    done = EvaluationRun.objects.filter(evaluation=evaluation, item_id=item_id, repeat=0, model_slug__in=evaluation.pair,
                                        status=RunStatus.DONE).count()
    if done < 2:
        return
    judge = LanguageModel.objects.select_related("provider").filter(pk=evaluation.judge_id).first()
    for order in ("ab", "ba"):
        verdict, created = JudgeVerdict.objects.get_or_create(evaluation=evaluation, item_id=item_id, order=order,
                                                              defaults={"judge_slug": evaluation.judge_slug})
        if created:
            transaction.on_commit(functools.partial(_send_judgement, verdict.pk, judge))


# --- Votes --------------------------------------------------------------------------------------------


def vote_record(*, evaluation: Evaluation, item: SuiteItem, voter, winner: str) -> ItemVote:
    """The owner's verdict on one item between the first two models; a later vote replaces it."""
    allowed = [*evaluation.pair, Verdict.TIE, Verdict.BOTH_BAD] if evaluation.pair else []
    if winner not in allowed:
        raise EvaluationRejected({"winner": [f"Give one of: {', '.join(allowed)}."]})
    vote, _ = ItemVote.objects.update_or_create(evaluation=evaluation, item=item, voter=voter, defaults={"winner": winner})
    return vote


def review_order(evaluation: Evaluation, item: SuiteItem) -> tuple[str, str]:
    """The pair in the order the review queue shows it: random per item, but the same on every
    reload, and not guessable from the page (keyed with the secret key)."""
    import hashlib

    first, second = evaluation.pair
    digest = hashlib.sha256(f"{settings.SECRET_KEY}:{evaluation.pk}:{item.pk}".encode()).digest()
    return (first, second) if digest[0] % 2 == 0 else (second, first)


def review_next_item(*, evaluation: Evaluation, voter) -> SuiteItem | None:
    """The first item with both answers in and no vote from this voter yet."""
    voted = ItemVote.objects.filter(evaluation=evaluation, voter=voter).values("item_id")
    ready = (EvaluationRun.objects.filter(evaluation=evaluation, repeat=0, model_slug__in=evaluation.pair, status=RunStatus.DONE)
             .values("item_id"))
    candidates = SuiteItem.objects.filter(suite_id=evaluation.suite_id, pk__in=ready).exclude(pk__in=voted).order_by("position")
    for item in candidates:
        if EvaluationRun.objects.filter(evaluation=evaluation, item=item, repeat=0, model_slug__in=evaluation.pair, status=RunStatus.DONE).count() == 2:
            return item
    return None


@dataclass(frozen=True)
class ReviewState:
    """What the review queue can still offer one voter, item by item of the pair (first repeat):
    voted, ready (both answers in, not voted), waiting (an answer still to come) or blocked (a run
    failed: nothing to compare until it is retried). The queue and the calibration page both say it."""

    voted: int
    ready: int
    waiting: int
    blocked: int

    @property
    def sentence(self) -> str:
        parts = [f"{self.voted} voted", f"{self.ready} ready to vote in the review queue"]
        if self.waiting:
            parts.append(f"{self.waiting} waiting for an answer")
        if self.blocked:
            parts.append(f"{self.blocked} that cannot be voted because a run failed (retry the failed runs to vote on them)")
        return "Of this evaluation's prompts: " + ", ".join(parts) + "."


def review_state(*, evaluation: Evaluation, voter) -> ReviewState:
    if not evaluation.pair:
        return ReviewState(0, 0, 0, 0)
    voted = set(ItemVote.objects.filter(evaluation=evaluation, voter=voter).values_list("item_id", flat=True))
    statuses: dict[int, list[str]] = {}
    for item_id, status in EvaluationRun.objects.filter(evaluation=evaluation, repeat=0, model_slug__in=evaluation.pair).values_list("item_id", "status"):
        statuses.setdefault(item_id, []).append(status)
    ready = waiting = blocked = 0
    for item_id, found in statuses.items():
        if item_id in voted:
            continue
        if found.count(RunStatus.DONE) == 2:
            ready += 1
        elif RunStatus.FAILED in found or RunStatus.CANCELLED in found:
            blocked += 1
        else:
            waiting += 1
    return ReviewState(len(voted), ready, waiting, blocked)


def suite_for_recommendation(*, user, recommendation) -> Suite | None:
    """The suite "Check this on your prompts" starts from: the user's latest written for this
    recommendation, else the sample suite of its task."""
    if recommendation is None:
        return None
    own = Suite.objects.filter(owner=user, recommendation=recommendation).order_by("-created_at").first()
    return own or Suite.objects.filter(is_sample=True, owner__isnull=True, task=recommendation.answers.get("task")).first()


def evaluations_of(user):
    return Evaluation.objects.filter(owner=user).select_related("suite")
