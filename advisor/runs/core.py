"""What every kind of run shares on a worker: who is running it (this process), whether the worker
that claimed a row is gone, and a heartbeat that keeps a live row from looking dead.

A claim is always a conditional update on the row's own status (and, once claimed, on its worker:
`worker_host` + `worker_pid`), never on a joined table: PostgreSQL does not re-check a condition in
a `WHERE id IN (SELECT …)` after waiting for the row's lock, so two claimers could both win.
"""

import contextlib
import os
import socket
import threading

import psutil
from django.conf import settings
from django.db import connection
from django.utils import timezone

HOSTNAME = socket.gethostname()


def _process_gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.Error:
        return True


def worker_gone(host: str, pid: int | None, updated_at, now=None) -> bool:
    """Whether the worker that claimed a row (of any kind) is gone."""
    if host == HOSTNAME and pid and _process_gone(pid):
        return True
    # A worker on another machine cannot be looked at: a row silent for longer than any run may last is dead.
    return ((now or timezone.now()) - updated_at).total_seconds() > settings.TRIAL_STALE_AFTER_S


def this_worker() -> dict:
    """The fields a claim writes to say which worker process holds the row."""
    return {"worker_host": HOSTNAME, "worker_pid": os.getpid()}


@contextlib.contextmanager
def heartbeat(owned_rows, every_s: float | None = None):
    """While the block runs, set `updated_at` on `owned_rows` (a queryset of the row, conditional on
    it still being ours) every RUN_HEARTBEAT_S from a thread with its own connection, so a call that
    streams nothing for minutes (a slow judge, a long prefill) never looks dead to the sweep."""
    every_s = settings.RUN_HEARTBEAT_S if every_s is None else every_s
    stop = threading.Event()

    def beat():
        try:
            while not stop.wait(every_s):
                if not owned_rows.update(updated_at=timezone.now()):
                    return  # no longer ours: whoever took it decides
        finally:
            connection.close()

    thread = threading.Thread(target=beat, name="run-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)
