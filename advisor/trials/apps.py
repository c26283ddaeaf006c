from django.apps import AppConfig


class TrialsConfig(AppConfig):
    name = "advisor.trials"
    verbose_name = "Trials"

    def ready(self):
        from . import signals  # noqa: F401  (connects the worker start-up sweep)
