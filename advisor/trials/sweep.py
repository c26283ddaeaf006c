"""Failing the runs whose worker is gone and the queued runs no worker took in time. Runs in the
worker (at start and periodically, advisor/machines/heartbeat.py), never in a web request."""

import datetime

from django.conf import settings
from django.utils import timezone

from advisor.runs.core import worker_gone

from .lifecycle import run_fail
from .models import Status, TrialRun

WORKER_GONE = "The worker running this stopped before it finished (it was restarted or ran out of memory). Run the trial again."


def never_started_message() -> str:
    return (
        f"No worker picked this run up within {settings.TRIAL_QUEUE_EXPIRE_S // 60} minutes. "
        "Check that a Celery worker is running for its queue (scripts/run starts one), then run the trial again."
    )


def run_fail_if_its_worker_is_gone(run: TrialRun, now=None) -> bool:
    """Mark a running run failed if the worker that claimed it is gone; a live worker's run is left to
    it. Whether it did."""
    return worker_gone(run.worker_host, run.worker_pid, run.updated_at, now) and run_fail(run, WORKER_GONE, cost_unknown=True)


def runs_sweep(queryset=None) -> int:
    """Mark failed the running runs whose worker is gone and the queued runs no worker took in time.
    Returns how many."""
    now = timezone.now()
    runs = queryset if queryset is not None else TrialRun.objects.all()
    swept = 0
    for run in runs.filter(status=Status.RUNNING):
        if run_fail_if_its_worker_is_gone(run, now):
            swept += 1
    expired = now - datetime.timedelta(seconds=settings.TRIAL_QUEUE_EXPIRE_S)
    for run in runs.filter(status=Status.QUEUED, queued_at__lt=expired):
        if run_fail(run, never_started_message(), unless_started=True):
            swept += 1
    return swept
