"""Workers report that they are alive: each worker's main process writes its `Worker` row when it
starts, every WORKER_HEARTBEAT_S while it runs, and once more when it stops."""

import datetime
import os
import socket

from django.conf import settings
from django.utils import timezone

from .models import Worker


# What this process measured of its machine at start (advisor/machines/signals.py), so a row made
# again by a later beat (after it was deleted) still says what machine the worker runs on.
measured_machine: dict = {}


def worker_beat(*, name: str, queues: list[str], started_at: datetime.datetime, models: dict | None = None) -> None:
    """`models`: what the worker can run ({slug: None or [reason, fix]}), checked in its own environment."""
    now = timezone.now()
    alive = {"hostname": socket.gethostname(), "pid": os.getpid(), "queues": sorted(queues), "started_at": started_at,
             "last_seen_at": now} | ({"models": models} if models is not None else {})
    Worker.objects.update_or_create(name=name, defaults=alive | {"stopped_at": None},
                                    create_defaults=alive | {"machine": measured_machine})


def worker_stopped(*, name: str) -> None:
    now = timezone.now()
    Worker.objects.filter(name=name, stopped_at=None).update(stopped_at=now, last_seen_at=now)


def silent_after_s() -> float:
    # Three missed beats: one late beat (a busy database) does not make a worker look gone.
    return 3 * settings.WORKER_HEARTBEAT_S


def workers_for(queue: str) -> list[Worker]:
    """The workers that consume `queue` and have not said they stopped, most recently seen first."""
    return [w for w in Worker.objects.filter(stopped_at=None) if queue in (w.queues or [])]


def live_workers():
    """Workers that have not said they stopped and beat recently."""
    since = timezone.now() - datetime.timedelta(seconds=silent_after_s())
    return Worker.objects.filter(stopped_at=None, last_seen_at__gte=since)


def worker_alive(worker: Worker, now=None) -> bool:
    now = now or timezone.now()
    return (now - worker.last_seen_at).total_seconds() <= silent_after_s()
