"""Running one trial run on a worker: claim it, stream into its row, store the measurement.
Every write is conditional on the run still being this worker's (lifecycle.py); a run failed
underneath stops generating at its next progress save."""

import functools
import logging
import time

from django.conf import settings

from advisor.machines.prediction import run_speed_record
from advisor.runs.core import heartbeat
from advisor.runs.failures import UNEXPECTED, failure_message, timed_out_message  # noqa: F401  (services re-exports)

from . import execution, runners
from .lifecycle import RunTakenAway, run_claim, run_fail, run_finish, run_owned, run_save_progress
from .pricing import trial_run_cost
from .models import Status, TrialRun
from .sweep import run_fail_if_its_worker_is_gone

log = logging.getLogger(__name__)


class _Progress:
    """Writes the streamed output to the database at most every TRIAL_SAVE_EVERY_S; raises
    RunTakenAway (which stops the generation) once the run is no longer this worker's."""

    def __init__(self, run: TrialRun):
        self.run = run
        self.saved_at = 0.0
        self.tokens = 0  # streamed so far, shown while the run goes on; the final count replaces it
        # The stream-lag benchmark compares these wall-clock times with when text shows on screen.
        self.trace = open(settings.TRIAL_TOKEN_TRACE, "a") if settings.TRIAL_TOKEN_TRACE else None

    def text(self, output: str, ttft_ms: int | None) -> None:
        self.run.output = output
        self.tokens += 1
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
            run_save_progress(self.run, output=self.run.output, **({"output_tokens": self.tokens} if self.tokens else {}), **fields)
            self.saved_at = now


def trial_run_execute(*, run_id: int) -> None:
    """Run one model on its trial's prompt, streaming into the row. Idempotent: a redelivered
    message for a run that already started never starts it over; it marks it failed if its worker
    died, and leaves it to its worker otherwise (Redis redelivers a message that outlives its
    visibility timeout while the run still streams)."""
    run = TrialRun.objects.select_related("trial", "model__provider").filter(pk=run_id).first()
    if run is None or run.status in (Status.DONE, Status.FAILED):
        return
    if run.status == Status.RUNNING:
        run_fail_if_its_worker_is_gone(run)
        return
    if run.model is None:
        run_fail(run, "This model was removed from the catalogue.")
        return
    if not run_claim(run):
        return  # another worker took it, or the sweep failed it, since it was read

    trial, model = run.trial, run.model
    request = runners.GenerationRequest(
        prompt=trial.prompt, system=trial.system, max_tokens=trial.max_tokens,
        temperature=trial.temperature, time_limit_s=settings.TRIAL_SOFT_TIME_LIMIT_S,
    )
    progress = _Progress(run)
    try:
        with heartbeat(run_owned(run)):
            measured = execution.generate(model, request, on_text=progress.text, on_progress=progress.progress,
                                           price=functools.partial(trial_run_cost, trial=trial))
    except execution.GenerationFailed as failed:
        run.output = failed.measurement.output
        exc = failed.cause
        if isinstance(exc, RunTakenAway):
            log.warning("Run %s was failed underneath its worker; stopped generating", run.pk)
        elif isinstance(exc, Exception):
            run_fail(run, failure_message(exc, log_as=f"Run {run.pk}"), owned=True, cost_usd=failed.measurement.cost_usd)
        else:
            raise exc
        return

    figures = TrialRun.measured_fields(measured) | {"peak_rss_mb": measured.peak_rss_mb}
    run_speed_record(run=run, measured=measured)  # runtime, precision, the advisor's estimate beside the measurement
    figures |= {"runtime": run.runtime, "precision": run.precision, "predicted_tokens_per_s": run.predicted_tokens_per_s}
    if measured.timed_out:
        run_finish(run, status=Status.FAILED, error=timed_out_message(), **figures)
    else:
        run_finish(run, **figures)
