from celery import shared_task
from django.conf import settings

from . import services, worker_signals
from .models import TrialRun


@shared_task(
    name="trials.run_execute",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.TRIAL_SOFT_TIME_LIMIT_S + 15,
    time_limit=settings.TRIAL_HARD_TIME_LIMIT_S + 15,
)
def trial_run_execute(run_id: int) -> None:
    worker_signals.preload_wait()
    try:
        services.trial_run_execute(run_id=run_id)
    except Exception:
        # Whatever broke, the run must not stay queued or running for ever.
        run = TrialRun.objects.filter(pk=run_id).first()
        if run is not None:
            services.run_fail(run, services.UNEXPECTED.format(kind="see the worker log"), cost_unknown=True)
        raise


@shared_task(
    name="trials.hybrid_run_execute",
    acks_late=True,
    reject_on_worker_lost=True,
    # Two generations, one after the other: each has the trial's time limit.
    soft_time_limit=2 * settings.TRIAL_SOFT_TIME_LIMIT_S + 15,
    time_limit=2 * settings.TRIAL_HARD_TIME_LIMIT_S + 15,
)
def trial_hybrid_run_execute(run_id: int) -> None:
    from .hybrid_run import trial_hybrid_run_execute as execute

    worker_signals.preload_wait()
    try:
        execute(run_id=run_id)
    except Exception:
        run = TrialRun.objects.filter(pk=run_id).first()
        if run is not None:
            services.run_fail(run, services.UNEXPECTED.format(kind="see the worker log"), cost_unknown=True)
        raise
