from django.apps import AppConfig


class GatewayConfig(AppConfig):
    name = "advisor.gateway"
    default_auto_field = "django.db.models.BigAutoField"
