"""A run's status changes, each a conditional update on the state it leaves (and, once a worker has
claimed the run, on that worker): the sweep, a redelivered message and the worker running it all
write the same row, so none of them may overwrite a change it did not see."""

import logging
import os

from django.db import transaction
from django.utils import timezone

from advisor.live import live_channel, live_publish
from advisor.runs import ledger
from advisor.runs.core import HOSTNAME

from .execution import ms
from .limits import run_subject
from .models import Status, TrialRun

log = logging.getLogger(__name__)


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
        live_publish(live_channel("run", run.pk))
        run.status, run.started_at, run.worker_host, run.worker_pid = Status.RUNNING, started, HOSTNAME, os.getpid()
    return bool(claimed)


def run_owned(run: TrialRun):
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
    if not run_owned(run).update(updated_at=timezone.now(), **fields):
        raise RunTakenAway(run.pk)
    live_publish(live_channel("run", run.pk))


def run_spend_settle(run: TrialRun, *, usd: float = 0.0, kind: str = ledger.SpendKind.TRIAL_RUN, unknown: bool = False) -> None:
    """The run's ledger entries closed at what it spent (`unknown`: its worker died mid-call, so at
    its worst case). Called in the transaction that ends the run."""
    subject = run_subject(run)
    if unknown:
        ledger.spend_settle_at_worst_case(subject=subject)
    else:
        ledger.spend_add(subject=subject, kind=kind, usd=usd)
        ledger.spend_settle(subject=subject)


def run_finish(run: TrialRun, **fields) -> bool:
    """Running → done (or failed, when `fields` say so) with the measured figures, settled in the
    ledger; False if the run was failed underneath meanwhile, which then stays failed."""
    now = timezone.now()
    fields.setdefault("status", Status.DONE)
    with transaction.atomic():
        finished = run_owned(run).update(finished_at=now, updated_at=now, progress="", **fields)
        if finished:
            run_spend_settle(run, usd=ledger.billable_usd(run.model, fields.get("cost_usd")))
    if not finished:
        log.warning("Run %s was failed while its worker finished it; it stays failed", run.pk)
    live_publish(live_channel("run", run.pk))
    return bool(finished)


def run_fail(run: TrialRun, message: str, *, unless_started: bool = False, owned: bool = False,
             cost_usd: float | None = None, cost_unknown: bool = False) -> bool:
    """Mark the run failed unless it already ended (with `unless_started`: unless a worker took it
    meanwhile; with `owned`: only while this worker still holds it), settling its ledger entries at
    `cost_usd` (what was received before it failed), or at the worst case when it is unknown
    (`cost_unknown`: its worker died mid-call, or broke). Returns whether it did."""
    now = timezone.now()
    if owned:
        rows = run_owned(run)
    else:
        rows = TrialRun.objects.filter(pk=run.pk, status__in=[Status.QUEUED] if unless_started else [Status.QUEUED, Status.RUNNING])
    with transaction.atomic():
        failed = rows.update(
            status=Status.FAILED, error=message, progress="", finished_at=now, updated_at=now,
            output=run.output,
            total_ms=ms((now - run.started_at).total_seconds()) if run.started_at else None,
        )
        if failed:
            run_spend_settle(run, usd=ledger.billable_usd(run.model, cost_usd), unknown=cost_unknown)
    if failed:
        log.info("Run %s failed: %s", run.pk, message)
        live_publish(live_channel("run", run.pk))
    return bool(failed)
