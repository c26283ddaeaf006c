"""Running an evaluation's runs and judgements on a worker, through the trials' engine
(`advisor.trials.execution.generate`: the same runners, metrics and pricing as a trial).

A run is claimed with a conditional update (queued → running, or a dead worker's running → ours),
so a duplicate or redelivered message never runs it twice, and its result is written only while
it is still ours, so nothing is counted twice.
"""

import functools
import logging
import os
import time

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db.models import F
from django.utils import timezone

from advisor.trials import execution as trial_execution
from advisor.trials import runners
from advisor.trials.pricing import trial_run_cost
from advisor.trials.services import timed_out_message

from . import judge as judging
from .checks import reference_passed
from .models import EvalStatus, Evaluation, EvaluationRun, JudgeStatus, JudgeVerdict, RunStatus
from .services import HOSTNAME, dispatch, evaluation_settle, judgements_queue_if_ready, worker_gone

log = logging.getLogger(__name__)
SAVE_EVERY_S = 0.5
LIVE = [EvalStatus.QUEUED, EvalStatus.RUNNING]


def _claim_fields() -> dict:
    now = timezone.now()
    return {"status": RunStatus.RUNNING, "started_at": now, "worker_host": HOSTNAME, "worker_pid": os.getpid(),
            "attempts": F("attempts") + 1, "output": "", "error": "", "updated_at": now}


def _claim(run_id: int, from_status: str = RunStatus.QUEUED) -> EvaluationRun | None:
    """The run, now ours; None if it is not ours to run (done, cancelled, or another live worker's)."""
    rows = EvaluationRun.objects.filter(pk=run_id, evaluation__status__in=LIVE)
    if rows.filter(status=from_status).update(**_claim_fields()):
        return EvaluationRun.objects.select_related("evaluation", "item", "model__provider").get(pk=run_id)
    run = rows.filter(status=RunStatus.RUNNING).first()
    if run is None or not worker_gone(run.worker_host, run.worker_pid, run.updated_at):
        return None
    # A redelivered message for a run whose worker died: take it over, unless it was tried enough.
    if run.attempts >= settings.EVAL_MAX_ATTEMPTS:
        EvaluationRun.objects.filter(pk=run_id, status=RunStatus.RUNNING, worker_pid=run.worker_pid).update(
            status=RunStatus.FAILED, finished_at=timezone.now(),
            error=f"The worker running this stopped {run.attempts} times before it finished; it was not tried again.")
        evaluation_settle(run.evaluation_id)
        return None
    if EvaluationRun.objects.filter(pk=run_id, status=RunStatus.RUNNING, worker_pid=run.worker_pid, worker_host=run.worker_host).update(**_claim_fields()):
        return EvaluationRun.objects.select_related("evaluation", "item", "model__provider").get(pk=run_id)
    return None


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
            _execute(run)
        except Exception:
            # Whatever broke, the run must not stay running for ever.
            log.exception("Evaluation run %s broke", run.pk)
            _mine(run).update(status=RunStatus.FAILED, finished_at=timezone.now(),
                              error="The run failed unexpectedly on the worker. Try again; if it persists, tell an admin.")
        if time.monotonic() - began >= settings.EVAL_CHAIN_S:
            break
        run = _claim_next_pending(evaluation_id, model_slug)
    dispatch(evaluation_id, model_slug)
    evaluation_settle(evaluation_id)


def _mine(run: EvaluationRun):
    return EvaluationRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING, worker_pid=os.getpid(), worker_host=HOSTNAME)


def _execute(run: EvaluationRun) -> None:
    if run.model is None:
        _mine(run).update(status=RunStatus.FAILED, error="This model was removed from the catalogue.", finished_at=timezone.now())
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
        if isinstance(exc, runners.RunError):
            message = str(exc)
        elif isinstance(exc, SoftTimeLimitExceeded):
            message = timed_out_message()
        elif isinstance(exc, Exception):
            log.exception("Evaluation run %s failed", run.pk, exc_info=exc)
            message = f"The run failed unexpectedly ({type(exc).__name__}: {exc}). Try again; if it persists, tell an admin."
        else:
            raise exc  # the worker is stopping: the run stays running, and a restarted worker runs it again
        _mine(run).update(status=RunStatus.FAILED, error=message, output=failed.measurement.output,
                          total_ms=failed.measurement.total_ms, finished_at=timezone.now())
        return
    fields = {name: getattr(measured, name) for name in (
        "output", "ttft_ms", "total_ms", "input_tokens", "output_tokens", "tokens_per_s", "cost_usd", "cost_basis", "confidence")}
    fields["passed"] = reference_passed(item.check_kind, item.expected, measured.output)
    if measured.timed_out:
        fields |= {"status": RunStatus.FAILED, "error": timed_out_message()}
    else:
        fields["status"] = RunStatus.DONE
    if _mine(run).update(finished_at=timezone.now(), **fields) and fields["status"] == RunStatus.DONE and run.repeat == 0:
        judgements_queue_if_ready(evaluation=evaluation, item_id=item.pk)


# --- The judge ---------------------------------------------------------------------------------------


def _claim_verdict(verdict_id: int) -> JudgeVerdict | None:
    fields = {"status": JudgeStatus.RUNNING, "worker_pid": os.getpid(), "worker_host": HOSTNAME, "attempts": F("attempts") + 1}
    rows = JudgeVerdict.objects.filter(pk=verdict_id, evaluation__status__in=LIVE)
    if rows.filter(status=JudgeStatus.QUEUED).update(**fields):
        return JudgeVerdict.objects.select_related("evaluation__judge__provider", "item").get(pk=verdict_id)
    verdict = rows.filter(status=JudgeStatus.RUNNING).first()
    if verdict and worker_gone(verdict.worker_host, verdict.worker_pid, verdict.updated_at) and verdict.attempts < settings.EVAL_MAX_ATTEMPTS:
        if rows.filter(status=JudgeStatus.RUNNING, worker_pid=verdict.worker_pid).update(**fields):
            return JudgeVerdict.objects.select_related("evaluation__judge__provider", "item").get(pk=verdict_id)
    return None


def evaluation_judge_execute(*, verdict_id: int) -> None:
    verdict = _claim_verdict(verdict_id)
    if verdict is None:
        return
    mine = JudgeVerdict.objects.filter(pk=verdict.pk, status=JudgeStatus.RUNNING, worker_pid=os.getpid())
    evaluation, item = verdict.evaluation, verdict.item
    try:
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
        mine.update(status=JudgeStatus.FAILED, error=str(failed.cause)[:500], raw=failed.measurement.output)
    except Exception as exc:  # a missing answer or a removed judge: say so on the verdict
        mine.update(status=JudgeStatus.FAILED, error=str(exc)[:500] or type(exc).__name__)
    else:
        parsed = judging.parse_verdict(measured.output)
        mine.update(status=JudgeStatus.DONE, raw=measured.output, rationale=parsed.rationale, cost_usd=measured.cost_usd,
                    winner=judging.winner_of(parsed.letter, verdict.order, first, second))
    evaluation_settle(evaluation.pk)
