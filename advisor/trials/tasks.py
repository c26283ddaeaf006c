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
            services.run_fail(run, services.UNEXPECTED.format(kind="see the worker log"))
        raise
