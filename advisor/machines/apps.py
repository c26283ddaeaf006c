from django.apps import AppConfig


class MachinesConfig(AppConfig):
    name = "advisor.machines"
    verbose_name = "Worker machines"

    def ready(self):
        from . import signals  # noqa: F401  (connects the worker's machine probe)
