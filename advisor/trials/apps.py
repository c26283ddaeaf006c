from django.apps import AppConfig


class TrialsConfig(AppConfig):
    name = "advisor.trials"
    verbose_name = "Trials"

    def ready(self):
        from . import worker_signals  # noqa: F401  (connects the worker start-up, heartbeat and sweep)
