from django.apps import AppConfig


class EvaluationsConfig(AppConfig):
    name = "advisor.evaluations"
    verbose_name = "Evaluations"

    def ready(self):
        from . import worker_signals  # noqa: F401  (re-dispatches unfinished evaluations when a worker starts)
