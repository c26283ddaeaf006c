"""A run's status changes, each a conditional update on the state it leaves (and, once a worker has
claimed the run, on that worker): the sweep, a redelivered message and the worker running it all
write the same row, so none of them may overwrite a change it did not see."""

import logging
import os
import socket

from django.utils import timezone

from .execution import ms
from .models import Status, TrialRun

log = logging.getLogger(__name__)

HOSTNAME = socket.gethostname()


class RunTakenAway(Exception):
    """The run is no longer this worker's (failed underneath by the sweep or a redelivery): stop generating."""


def run_claim(run: TrialRun) -> bool:
    """Queued → running for this worker process. False if it was no longer queued."""
    started = timezone.now()
    claimed = TrialRun.objects.filter(pk=run.pk, status=Status.QUEUED).update(
        status=Status.RUNNING, started_at=started, queue_ms=ms((started - run.queued_at).total_seconds()),
        worker_host=HOSTNAME, worker_pid=os.getpid(), updated_at=started,
    )
    if claimed:
        run.status, run.started_at, run.worker_host, run.worker_pid = Status.RUNNING, started, HOSTNAME, os.getpid()
    return bool(claimed)


def _owned(run: TrialRun):
    """The row while it is still running for the worker that claimed it."""
    return TrialRun.objects.filter(pk=run.pk, status=Status.RUNNING, worker_host=run.worker_host,
                                   worker_pid=run.worker_pid, started_at=run.started_at)


def elapsed_ms(run) -> int | None:
    """How long a running run (a trial's or an evaluation's) has been running, for its progress."""
    if run.status != Status.RUNNING or run.started_at is None:
        return None
    return ms((timezone.now() - run.started_at).total_seconds())


def run_save_progress(run: TrialRun, **fields) -> None:
    """Store streamed output; raises RunTakenAway when the run was failed underneath."""
    if not _owned(run).update(updated_at=timezone.now(), **fields):
        raise RunTakenAway(run.pk)


def run_finish(run: TrialRun, **fields) -> bool:
    """Running → done (or failed, when `fields` say so) with the measured figures; False if the run
    was failed underneath meanwhile, which then stays failed."""
    now = timezone.now()
    fields.setdefault("status", Status.DONE)
    finished = _owned(run).update(finished_at=now, updated_at=now, progress="", **fields)
    if not finished:
        log.warning("Run %s was failed while its worker finished it; it stays failed", run.pk)
    return bool(finished)


def run_fail(run: TrialRun, message: str, *, unless_started: bool = False, owned: bool = False) -> bool:
    """Mark the run failed unless it already ended (with `unless_started`: unless a worker took it
    meanwhile; with `owned`: only while this worker still holds it). Returns whether it did."""
    now = timezone.now()
    if owned:
        rows = _owned(run)
    else:
        rows = TrialRun.objects.filter(pk=run.pk, status__in=[Status.QUEUED] if unless_started else [Status.QUEUED, Status.RUNNING])
    failed = rows.update(
        status=Status.FAILED, error=message, progress="", finished_at=now, updated_at=now,
        output=run.output,
        total_ms=ms((now - run.started_at).total_seconds()) if run.started_at else None,
    )
    if failed:
        log.info("Run %s failed: %s", run.pk, message)
    return bool(failed)
