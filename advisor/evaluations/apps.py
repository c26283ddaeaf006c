from django.apps import AppConfig


class EvaluationsConfig(AppConfig):
    name = "advisor.evaluations"
    verbose_name = "Evaluations"

    def ready(self):
        from django.conf import settings

        from advisor.runs.sweep import sweeper_register

        from .services import evaluations_sweep

        # At a worker's start every queued run is re-sent (its predecessor may have taken the message
        # with it); later only those that waited longer than EVAL_RESEND_QUEUED_AFTER_S.
        sweeper_register("evaluations", lambda *, at_start: evaluations_sweep(
            resend_queued_after_s=0 if at_start else settings.EVAL_RESEND_QUEUED_AFTER_S))
