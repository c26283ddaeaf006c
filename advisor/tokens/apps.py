from django.apps import AppConfig


class TokensConfig(AppConfig):
    name = "advisor.tokens"
    verbose_name = "API tokens"
