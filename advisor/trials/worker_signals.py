"""Celery worker signals: preload local models in each pool process; in the main process, the
heartbeat and the sweep of dead runs, at start and then periodically on a daemon thread (so a
plain `celery -A advisor worker` does both with no beat process, and web requests never sweep)."""

import logging
import threading

from celery.signals import worker_process_init, worker_ready, worker_shutdown
from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone

log = logging.getLogger(__name__)

_stop = threading.Event()
_state: dict = {}


def _beat_and_sweep(name: str, queues: list[str], started_at, *, sweep: bool, at_start: bool = False) -> None:
    from advisor.machines.heartbeat import worker_beat
    from advisor.runs.sweep import sweep_every_kind

    from .availability import worker_capabilities

    close_old_connections()
    worker_beat(name=name, queues=queues, started_at=started_at, models=worker_capabilities(queues))
    if sweep and (swept := sweep_every_kind(at_start=at_start)):
        log.warning("The sweep changed %d runs (their worker was gone, no worker took them in time, or they were re-sent)", swept)


def _loop(name: str, queues: list[str], started_at) -> None:
    last_sweep = timezone.now()
    while not _stop.wait(settings.WORKER_HEARTBEAT_S):
        now = timezone.now()
        due = (now - last_sweep).total_seconds() >= settings.TRIAL_SWEEP_EVERY_S
        try:
            _beat_and_sweep(name, queues, started_at, sweep=due)
        except Exception:  # a database hiccup must not end the heartbeat for good
            log.exception("Heartbeat or sweep failed; trying again in %s s", settings.WORKER_HEARTBEAT_S)
        if due:
            last_sweep = now
    connection.close()


@worker_ready.connect
def start_heartbeat_and_sweep(sender=None, **kwargs):
    # A worker that starts after a crash finds the runs its predecessor left "running".
    name = getattr(sender, "hostname", None) or "celery@unknown"
    queues = sorted(sender.app.amqp.queues.consume_from) if sender is not None else []
    started_at = timezone.now()
    _beat_and_sweep(name, queues, started_at, sweep=True, at_start=True)
    _stop.clear()
    # Daemon: it must never keep a stopping worker alive.
    thread = threading.Thread(target=_loop, args=(name, queues, started_at), name="heartbeat-and-sweep", daemon=True)
    thread.start()
    _state.update(name=name, thread=thread)


@worker_shutdown.connect
def stop_heartbeat(**kwargs):
    _stop.set()
    if name := _state.get("name"):
        from advisor.machines.heartbeat import worker_stopped

        try:
            worker_stopped(name=name)
        except Exception:
            log.exception("Could not record that worker %s stopped", name)


_preloaded = threading.Event()
_preloaded.set()  # nothing to wait for outside a pool process


@worker_process_init.connect
def preload_local_models(**kwargs):
    # Without this a worker process's first local run pays the model load (~4 s here) as time to
    # first token, which makes the SLM look slower than it is. On a thread, because a pool process
    # reads its stop sentinel only once this signal returns: importing torch and loading the weights
    # inline (5-25 s on a busy 2-core machine) kept a TERMed idle worker waiting that long.
    _preloaded.clear()
    threading.Thread(target=_preload, name="preload-models", daemon=True).start()


def _preload() -> None:
    try:
        if settings.TRIAL_PRELOAD_MODELS:
            from .runners import RunError, preload

            for weights_spec in settings.TRIAL_PRELOAD_MODELS:
                try:
                    preload(weights_spec)
                except RunError as exc:
                    log.warning("Could not preload %s: %s", weights_spec, exc)
    finally:
        _preloaded.set()


def preload_wait(timeout: float = 600) -> None:
    """Block a task until this process's preload is over, so a run never loads a model twice at once."""
    _preloaded.wait(timeout)
