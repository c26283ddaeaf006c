from django.apps import AppConfig


class CatalogueConfig(AppConfig):
    name = "advisor.catalogue"
    verbose_name = "Model catalogue"
