from django.apps import AppConfig


class MachinesConfig(AppConfig):
    name = "advisor.machines"
    verbose_name = "Worker machines"
