import logging

from celery.signals import worker_process_init, worker_ready
from django.conf import settings

log = logging.getLogger(__name__)


@worker_ready.connect
def sweep_runs_of_dead_workers(**kwargs):
    # A worker that starts after a crash finds the runs its predecessor left "running".
    from .services import runs_sweep

    runs_sweep()


@worker_process_init.connect
def preload_local_models(**kwargs):
    # Without this a worker process's first local run pays the model load (~4 s here) as time to
    # first token, which makes the SLM look slower than it is.
    from .runners import RunError, preload

    for weights_spec in settings.TRIAL_PRELOAD_MODELS:
        try:
            preload(weights_spec)
        except RunError as exc:
            log.warning("Could not preload %s: %s", weights_spec, exc)
