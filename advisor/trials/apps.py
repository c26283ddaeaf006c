from django.apps import AppConfig


class TrialsConfig(AppConfig):
    name = "advisor.trials"
    verbose_name = "Trials"

    def ready(self):
        from advisor.runs.sweep import sweeper_register

        from . import worker_signals  # noqa: F401  (connects the worker start-up, heartbeat and sweep)
        from .sweep import runs_sweep

        sweeper_register("trials", lambda *, at_start: runs_sweep())
