"""Which queue a run goes to, and sending it there."""

import logging

from django.conf import settings

from advisor.runs.registry import queue_for  # noqa: F401  (trials import it from here)

from .lifecycle import run_fail
from .models import TrialRun

log = logging.getLogger(__name__)

NOT_QUEUED = "The run could not be queued: the task queue (broker) did not answer. Check that it and the worker are running (scripts/run starts both), then run the trial again."


def run_enqueue(run: TrialRun, queue: str) -> None:
    from .tasks import trial_run_execute

    try:
        # The message expires when the sweep gives up on the run, so a late worker never starts it.
        trial_run_execute.apply_async((run.pk,), queue=queue, expires=settings.TRIAL_QUEUE_EXPIRE_S)
    except Exception:
        log.exception("Could not queue run %s", run.pk)
        run_fail(run, NOT_QUEUED)
