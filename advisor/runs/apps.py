from django.apps import AppConfig


class RunsConfig(AppConfig):
    name = "advisor.runs"
    verbose_name = "Runs"
