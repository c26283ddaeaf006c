from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "advisor.web"
    verbose_name = "Advisor"
