from celery import shared_task
from django.conf import settings

from . import services


@shared_task(
    name="trials.run_execute",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.TRIAL_SOFT_TIME_LIMIT_S + 15,
    time_limit=settings.TRIAL_HARD_TIME_LIMIT_S + 15,
)
def trial_run_execute(run_id: int) -> None:
    services.trial_run_execute(run_id=run_id)
