"""Running an evaluation's runs and judgements on a worker, through the trials' engine
(`advisor.trials.execution.generate`: the same runners, metrics and pricing as a trial).

A run (and a judge call) is claimed with a conditional update on its own row's status — queued →
running for this worker — so a duplicate or redelivered message never runs it twice at the
provider, on SQLite or PostgreSQL; a run whose worker died is failed by the sweep, never run again.
Its result, and its cost in the spend ledger, are written only while it is still ours, in one
transaction, so nothing is counted twice.
"""

import functools
import logging
import os
import time

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from advisor.runs import ledger
from advisor.runs.core import HOSTNAME, heartbeat
from advisor.runs.failures import failure_message, timed_out_message
from advisor.trials import execution as trial_execution
from advisor.trials import runners
from advisor.trials.pricing import trial_run_cost

from . import judge as judging
from .checks import reference_passed
from .limits import evaluation_subject
from .models import EvalStatus, Evaluation, EvaluationRun, JudgeStatus, JudgeVerdict, RunStatus
from .services import dispatch, evaluation_settle, judgements_queue_if_ready, run_worst_case_usd

log = logging.getLogger(__name__)
SAVE_EVERY_S = 0.5
LIVE = [EvalStatus.QUEUED, EvalStatus.RUNNING]


def _claim_fields() -> dict:
    now = timezone.now()
    return {"status": RunStatus.RUNNING, "started_at": now, "worker_host": HOSTNAME, "worker_pid": os.getpid(),
            "attempts": F("attempts") + 1, "output": "", "error": "", "updated_at": now}


def _claim(run_id: int, from_status: str = RunStatus.QUEUED) -> EvaluationRun | None:
    """The run, now ours; None if it is not ours to run (done, cancelled, failed, or running
    elsewhere). The update's condition is on the row's own status only: a condition on a
    joined table (`evaluation__status__in`) becomes `WHERE id IN (SELECT …)`, which PostgreSQL does
    not re-check after waiting for the row lock, so two claimers could both win. A cancelled
    evaluation's runs are cancelled with it, so they are not queued any more either."""
    if not EvaluationRun.objects.filter(pk=run_id, status=from_status).update(**_claim_fields()):
        return None
    return EvaluationRun.objects.select_related("evaluation", "item", "model__provider").get(pk=run_id)


def _claim_next_pending(evaluation_id, model_slug: str) -> EvaluationRun | None:
    """The model's next waiting run, taken straight into this task (its slot stays in use)."""
    for run_id in (EvaluationRun.objects.filter(evaluation_id=evaluation_id, model_slug=model_slug, status=RunStatus.PENDING)
                   .order_by("item__position", "repeat").values_list("pk", flat=True)[:5]):
        EvaluationRun.objects.filter(pk=run_id, status=RunStatus.PENDING).update(queued_at=timezone.now())
        if run := _claim(run_id, from_status=RunStatus.PENDING):
            return run
    return None


def evaluation_run_execute(*, run_id: int) -> None:
    """Run the claimed run, then go on with the same model's next waiting runs for up to
    EVAL_CHAIN_S (no broker round trip between them), then hand the slot back to the dispatcher."""
    run = _claim(run_id)
    if run is None:
        return
    Evaluation.objects.filter(pk=run.evaluation_id, status=EvalStatus.QUEUED).update(status=EvalStatus.RUNNING)
    began = time.monotonic()
    evaluation_id, model_slug = run.evaluation_id, run.model_slug
    while run is not None:
        try:
            with heartbeat(_mine(run)):
                _execute(run)
        except Exception as exc:
            # Whatever broke, the run must not stay running for ever.
            # Its call may have reached the provider: it counts at its worst case.
            _end(run, spent_usd=run_worst_case_usd(run), status=RunStatus.FAILED, error=failure_message(exc, log_as=f"Evaluation run {run.pk}"))
        if time.monotonic() - began >= settings.EVAL_CHAIN_S:
            break
        run = _claim_next_pending(evaluation_id, model_slug)
    dispatch(evaluation_id, model_slug)
    evaluation_settle(evaluation_id)


def _mine(run: EvaluationRun):
    return EvaluationRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING, worker_pid=os.getpid(), worker_host=HOSTNAME)


def _end(run: EvaluationRun, *, spent_usd: float | None, **fields) -> bool:
    """Running → done or failed, with its cost in the ledger, in one transaction; False if it was
    no longer ours (the sweep failed it)."""
    with transaction.atomic():
        ended = _mine(run).update(finished_at=timezone.now(), updated_at=timezone.now(), **fields)
        if ended:
            ledger.spend_add(subject=evaluation_subject(run.evaluation_id), kind=ledger.SpendKind.EVALUATION,
                             usd=ledger.billable_usd(run.model, spent_usd))
    return bool(ended)


def _execute(run: EvaluationRun) -> None:
    if run.model is None:
        _end(run, spent_usd=None, status=RunStatus.FAILED, error="This model was removed from the catalogue.")
        return
    evaluation, item = run.evaluation, run.item
    request = runners.GenerationRequest(
        prompt=item.prompt, system=item.system, max_tokens=evaluation.max_tokens,
        temperature=evaluation.temperature, time_limit_s=settings.TRIAL_SOFT_TIME_LIMIT_S,
    )
    saved_at = [0.0]
    streamed = [0]  # tokens so far, shown while the run goes on; the final count replaces it

    def on_text(output: str, ttft_ms: int | None) -> None:
        # Partial output shows on the report while the run streams; at most twice a second.
        now = time.monotonic()
        streamed[0] += 1
        if ttft_ms is not None or now - saved_at[0] >= SAVE_EVERY_S:
            _mine(run).update(output=output, output_tokens=streamed[0], updated_at=timezone.now(),
                              **({"ttft_ms": ttft_ms} if ttft_ms is not None else {}))
            saved_at[0] = now

    try:
        measured = trial_execution.generate(run.model, request, on_text=on_text, on_progress=lambda message: None,
                                            price=functools.partial(trial_run_cost, trial=run.evaluation))
    except trial_execution.GenerationFailed as failed:
        exc = failed.cause
        if not isinstance(exc, Exception):
            raise exc  # the worker is stopping: the run stays running, and the sweep fails it with a reason
        _end(run, spent_usd=failed.measurement.cost_usd, status=RunStatus.FAILED, output=failed.measurement.output,
             error=failure_message(exc, log_as=f"Evaluation run {run.pk}"), total_ms=failed.measurement.total_ms)
        return
    fields = EvaluationRun.measured_fields(measured)
    fields["passed"] = reference_passed(item.check_kind, item.expected, measured.output)
    if measured.timed_out:
        fields |= {"status": RunStatus.FAILED, "error": timed_out_message()}
    else:
        fields["status"] = RunStatus.DONE
    if _end(run, spent_usd=measured.cost_usd, **fields) and fields["status"] == RunStatus.DONE and run.repeat == 0:
        judgements_queue_if_ready(evaluation=evaluation, item_id=item.pk)


# --- The judge ---------------------------------------------------------------------------------------


def _claim_verdict(verdict_id: int) -> JudgeVerdict | None:
    """The judge call, now ours; None if it is not queued (taken, done, or failed by the sweep). Like
    a run's claim: a conditional update on the row's own status, which also says it is alive
    (`updated_at`), so the sweep never takes a live call for a dead one."""
    if not JudgeVerdict.objects.filter(pk=verdict_id, status=JudgeStatus.QUEUED).update(
            status=JudgeStatus.RUNNING, worker_pid=os.getpid(), worker_host=HOSTNAME, attempts=F("attempts") + 1, updated_at=timezone.now()):
        return None
    verdict = JudgeVerdict.objects.select_related("evaluation__judge__provider", "item").get(pk=verdict_id)
    if verdict.evaluation.status not in LIVE:
        JudgeVerdict.objects.filter(pk=verdict_id, status=JudgeStatus.RUNNING).update(status=JudgeStatus.FAILED, error="Cancelled.")
        return None
    return verdict


def _judge_end(verdict: JudgeVerdict, *, spent_usd: float | None, **fields) -> None:
    with transaction.atomic():
        if JudgeVerdict.objects.filter(pk=verdict.pk, status=JudgeStatus.RUNNING, worker_pid=os.getpid(), worker_host=HOSTNAME).update(
                updated_at=timezone.now(), **fields):
            ledger.spend_add(subject=evaluation_subject(verdict.evaluation_id), kind=ledger.SpendKind.JUDGE,
                             usd=ledger.billable_usd(verdict.evaluation.judge, spent_usd))


def evaluation_judge_execute(*, verdict_id: int) -> None:
    verdict = _claim_verdict(verdict_id)
    if verdict is None:
        return
    mine = JudgeVerdict.objects.filter(pk=verdict.pk, status=JudgeStatus.RUNNING, worker_pid=os.getpid(), worker_host=HOSTNAME)
    evaluation, item = verdict.evaluation, verdict.item
    try:
        with heartbeat(mine):
            first, second = evaluation.pair
            answers = {run.model_slug: run.output for run in EvaluationRun.objects.filter(
                evaluation=evaluation, item=item, repeat=0, model_slug__in=evaluation.pair, status=RunStatus.DONE)}
            shown = (answers[first], answers[second]) if verdict.order == "ab" else (answers[second], answers[first])
            system, prompt = judging.judge_prompt(question=item.prompt, answer_a=shown[0], answer_b=shown[1], expected=item.expected)
            request = runners.GenerationRequest(prompt=prompt, system=system, max_tokens=evaluation.judge_max_tokens,
                                                temperature=0.0, time_limit_s=settings.TRIAL_SOFT_TIME_LIMIT_S)
            if evaluation.judge is None:
                raise runners.RunError("The judge model was removed from the catalogue.")
            measured = trial_execution.generate(evaluation.judge, request, on_text=lambda *a: None, on_progress=lambda m: None,
                                                price=functools.partial(trial_run_cost, trial=evaluation))
    except trial_execution.GenerationFailed as failed:
        if not isinstance(failed.cause, Exception):
            raise failed.cause
        _judge_end(verdict, spent_usd=failed.measurement.cost_usd, status=JudgeStatus.FAILED, raw=failed.measurement.output,
                   error=failure_message(failed.cause, log_as=f"Judge call {verdict.pk}")[:500])
    except Exception as exc:  # a missing answer or a removed judge: say so on the verdict
        _judge_end(verdict, spent_usd=None, status=JudgeStatus.FAILED, error=failure_message(exc, log_as=f"Judge call {verdict.pk}")[:500])
    else:
        parsed = judging.parse_verdict(measured.output)
        _judge_end(verdict, spent_usd=measured.cost_usd, status=JudgeStatus.DONE, raw=measured.output, rationale=parsed.rationale,
                   cost_usd=measured.cost_usd, winner=judging.winner_of(parsed.letter, verdict.order, first, second))
    evaluation_settle(evaluation.pk)
