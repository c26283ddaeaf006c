from django.apps import AppConfig


class HybridConfig(AppConfig):
    name = "advisor.hybrid"
    verbose_name = "Hybrid cascades"
