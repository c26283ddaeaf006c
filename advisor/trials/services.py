"""What a trial does: start it, run each of its runs, and mark runs whose worker is gone.

Views and tasks call these functions; they hold the rules (limits, metrics, status changes).
"""

import datetime
import functools
import logging
import os
import socket
import time
from dataclasses import dataclass

import psutil
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from advisor.catalogue.models import LanguageModel, Provider
from advisor.machines.prediction import run_speed_record

from . import execution, runners
from .execution import ms
from .models import Status, Trial, TrialRun

log = logging.getLogger(__name__)

HOSTNAME = socket.gethostname()


def timed_out_message() -> str:
    return (
        f"Timed out after {settings.TRIAL_SOFT_TIME_LIMIT_S} s; the text so far is kept. "
        "Lower max tokens, or ask an admin to raise TRIAL_SOFT_TIME_LIMIT_S."
    )


WORKER_GONE = "The worker running this stopped before it finished (it was restarted or ran out of memory). Run the trial again."
NOT_QUEUED = "The run could not be queued: the task queue (broker) did not answer. Check that it and the worker are running (scripts/run starts both), then run the trial again."


def never_started_message() -> str:
    return (
        f"No worker picked this run up within {settings.TRIAL_QUEUE_EXPIRE_S // 60} minutes. "
        "Check that a Celery worker is running for its queue (scripts/run starts one), then run the trial again."
    )


class TrialRejected(Exception):
    """The request breaks a rule; `errors` maps the field to messages, as forms and the API show them."""

    def __init__(self, errors: dict[str, list[str]], status: int = 400):
        self.errors = errors
        self.status = status
        super().__init__(errors)


@dataclass(frozen=True)
class TrialRequest:
    prompt: str
    models: list[str]
    system: str = ""
    max_tokens: int = 256
    temperature: float = 0.0
    blind: bool = False


def _check_limits(owner, request: TrialRequest, models: list[LanguageModel]) -> None:
    in_flight = TrialRun.objects.filter(trial__owner=owner, status__in=[Status.QUEUED, Status.RUNNING]).count()
    if in_flight + len(models) > settings.TRIAL_MAX_RUNS_IN_FLIGHT_PER_USER:
        raise TrialRejected(
            {"models": [f"You have {in_flight} runs still going; at most {settings.TRIAL_MAX_RUNS_IN_FLIGHT_PER_USER} may run at once. Wait for them to finish."]},
            status=429,
        )
    if any(m.input_usd_per_mtok or m.output_usd_per_mtok for m in models):
        since = timezone.now() - datetime.timedelta(days=1)
        spent = TrialRun.objects.filter(trial__owner=owner, queued_at__gte=since, model__provider__hosted=True).aggregate(total=Sum("cost_usd"))["total"] or 0
        if spent >= settings.TRIAL_DAILY_SPEND_CAP_USD:
            raise TrialRejected(
                {"models": [f"You have spent ${spent:.2f} on paid models in the last 24 hours, the daily cap of ${settings.TRIAL_DAILY_SPEND_CAP_USD:.2f}. Use free local models or wait."]},
                status=429,
            )


def trial_start(*, owner, request: TrialRequest) -> Trial:
    """Create a trial and queue one task per model; the tasks are sent once the rows are committed."""
    slugs = list(dict.fromkeys(request.models))
    found = {m.slug: m for m in LanguageModel.objects.active().select_related("provider").filter(slug__in=slugs)}
    unknown = [slug for slug in slugs if slug not in found]
    if unknown:
        raise TrialRejected({"models": [f"Unknown or inactive model: {', '.join(unknown)}."]})
    models = [found[slug] for slug in slugs]
    _check_limits(owner, request, models)

    with transaction.atomic():
        trial = Trial.objects.create(
            owner=owner, prompt=request.prompt, system=request.system, max_tokens=request.max_tokens,
            temperature=request.temperature, blind=request.blind,
        )
        for position, model in enumerate(models):
            run = TrialRun.objects.create(trial=trial, position=position, model=model, model_slug=model.slug, model_name=model.name)
            queue = "local" if model.provider.kind == Provider.Kind.TRANSFORMERS else "api"
            # Sent after commit, so a worker never looks for a row that is not there yet.
            transaction.on_commit(functools.partial(_enqueue, run, queue))
    return trial


def _enqueue(run: TrialRun, queue: str) -> None:
    from .tasks import trial_run_execute

    try:
        # The message expires when the sweep gives up on the run, so a late worker never starts it.
        trial_run_execute.apply_async((run.pk,), queue=queue, expires=settings.TRIAL_QUEUE_EXPIRE_S)
    except Exception:
        log.exception("Could not queue run %s", run.pk)
        run_fail(run, NOT_QUEUED)


def run_cost(model: LanguageModel, input_tokens: int | None, output_tokens: int | None, total_s: float) -> tuple[float | None, str]:
    if model.provider.hosted or model.input_usd_per_mtok or model.output_usd_per_mtok:
        if input_tokens is None or output_tokens is None:
            return None, "unknown: the server reported no token counts"
        cost = (input_tokens * model.input_usd_per_mtok + output_tokens * model.output_usd_per_mtok) / 1e6
        return cost, f"catalogue prices: ${model.input_usd_per_mtok}/Mtok in, ${model.output_usd_per_mtok}/Mtok out"
    rate = settings.LOCAL_HARDWARE_USD_PER_HOUR
    return total_s / 3600 * rate, f"this machine's time at ${rate}/hour (LOCAL_HARDWARE_USD_PER_HOUR)"


class _Progress:
    """Writes the streamed output to the database at most every TRIAL_SAVE_EVERY_S."""

    def __init__(self, run: TrialRun):
        self.run = run
        self.saved_at = 0.0
        # The stream-lag benchmark compares these wall-clock times with when text shows on screen.
        self.trace = open(settings.TRIAL_TOKEN_TRACE, "a") if settings.TRIAL_TOKEN_TRACE else None

    def text(self, output: str, ttft_ms: int | None) -> None:
        self.run.output = output
        if self.trace:
            self.trace.write(f"{self.run.pk} {time.time():.4f} {len(output)}\n")
            self.trace.flush()
        if ttft_ms is not None:
            self.save(force=True, progress="", ttft_ms=ttft_ms)
        else:
            self.save()

    def progress(self, message: str) -> None:
        self.save(force=True, progress=message[:200])

    def save(self, force: bool = False, **fields) -> None:
        now = time.monotonic()
        if force or now - self.saved_at >= settings.TRIAL_SAVE_EVERY_S:
            TrialRun.objects.filter(pk=self.run.pk).update(output=self.run.output, updated_at=timezone.now(), **fields)
            self.saved_at = now


def trial_run_execute(*, run_id: int) -> None:
    """Run one model on its trial's prompt, streaming into the row. Idempotent: a redelivered
    message for a run that already started (its worker died) marks it failed instead of starting over."""
    with transaction.atomic():
        run = TrialRun.objects.select_for_update(of=("self",)).select_related("trial", "model__provider").filter(pk=run_id).first()
        if run is None or run.status in (Status.DONE, Status.FAILED):
            return
        if run.status == Status.RUNNING:
            run_fail(run, WORKER_GONE)
            return
        if run.model is None:
            run_fail(run, "This model was removed from the catalogue.")
            return
        started = timezone.now()
        run.status, run.started_at = Status.RUNNING, started
        run.queue_ms = ms((started - run.queued_at).total_seconds())
        run.worker_host, run.worker_pid = HOSTNAME, os.getpid()
        run.save(update_fields=["status", "started_at", "queue_ms", "worker_host", "worker_pid", "updated_at"])

    trial, model = run.trial, run.model
    request = runners.GenerationRequest(
        prompt=trial.prompt, system=trial.system, max_tokens=trial.max_tokens,
        temperature=trial.temperature, time_limit_s=settings.TRIAL_SOFT_TIME_LIMIT_S,
    )
    progress = _Progress(run)
    try:
        measured = execution.generate(model, request, on_text=progress.text, on_progress=progress.progress, price=run_cost)
    except execution.GenerationFailed as failed:
        run.output = failed.measurement.output
        exc = failed.cause
        if isinstance(exc, runners.RunError):
            run_fail(run, str(exc))
        elif isinstance(exc, SoftTimeLimitExceeded):
            run_fail(run, timed_out_message())
        elif isinstance(exc, Exception):
            log.exception("Run %s failed", run.pk, exc_info=exc)
            run_fail(run, f"The run failed unexpectedly ({type(exc).__name__}: {exc}). Try again; if it persists, tell an admin.")
        else:
            raise exc
        return

    for name in ("output", "ttft_ms", "total_ms", "input_tokens", "output_tokens", "tokens_per_s", "cost_usd",
                 "cost_basis", "peak_rss_mb", "confidence"):
        setattr(run, name, getattr(measured, name))
    run_speed_record(run=run, measured=measured)  # runtime, precision, the advisor's estimate beside the measurement
    run.finished_at = timezone.now()
    run.progress = ""
    if measured.timed_out:
        run.status = Status.FAILED
        run.error = timed_out_message()
    else:
        run.status = Status.DONE
    run.save()


def run_fail(run: TrialRun, message: str, *, unless_started: bool = False) -> None:
    """Mark the run failed unless it already ended (or, with `unless_started`, a worker took it meanwhile)."""
    now = timezone.now()
    still = [Status.QUEUED] if unless_started else [Status.QUEUED, Status.RUNNING]
    TrialRun.objects.filter(pk=run.pk, status__in=still).update(
        status=Status.FAILED, error=message, progress="", finished_at=now, updated_at=now,
        output=run.output,
        total_ms=ms((now - run.started_at).total_seconds()) if run.started_at else None,
    )


def _process_gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.Error:
        return True


def _worker_gone(run: TrialRun, now) -> bool:
    if run.worker_host == HOSTNAME and run.worker_pid and _process_gone(run.worker_pid):
        return True
    # A worker on another machine cannot be looked at: a run silent for longer than any run may last is dead.
    return (now - run.updated_at).total_seconds() > settings.TRIAL_STALE_AFTER_S


def runs_sweep(queryset=None) -> int:
    """Mark failed the running runs whose worker is gone and the queued runs no worker took in time.
    Returns how many."""
    now = timezone.now()
    runs = queryset if queryset is not None else TrialRun.objects.all()
    swept = 0
    for run in runs.filter(status=Status.RUNNING):
        if _worker_gone(run, now):
            run_fail(run, WORKER_GONE)
            swept += 1
    expired = now - datetime.timedelta(seconds=settings.TRIAL_QUEUE_EXPIRE_S)
    for run in runs.filter(status=Status.QUEUED, queued_at__lt=expired):
        run_fail(run, never_started_message(), unless_started=True)
        swept += 1
    return swept
