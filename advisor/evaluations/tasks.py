from celery import shared_task
from django.conf import settings

from . import execution


@shared_task(
    name="evaluations.run_execute",
    acks_late=True,
    reject_on_worker_lost=True,
    # A task goes on with its model's next runs for up to EVAL_CHAIN_S, then one more run at most.
    soft_time_limit=settings.EVAL_CHAIN_S + settings.TRIAL_SOFT_TIME_LIMIT_S + 15,
    time_limit=settings.EVAL_CHAIN_S + settings.TRIAL_HARD_TIME_LIMIT_S + 15,
)
def evaluation_run_execute(run_id: int) -> None:
    execution.evaluation_run_execute(run_id=run_id)


@shared_task(
    name="evaluations.judge_execute",
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.TRIAL_SOFT_TIME_LIMIT_S + 15,
    time_limit=settings.TRIAL_HARD_TIME_LIMIT_S + 15,
)
def evaluation_judge_execute(verdict_id: int) -> None:
    execution.evaluation_judge_execute(verdict_id=verdict_id)
