from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "advisor.web"
    verbose_name = "Advisor"

    def ready(self):
        from . import sharing  # noqa: F401  (its sign-in receiver adopts a session's recommendations)
        from .spec_cache import connect_signals

        connect_signals()  # a catalogue edit clears the advisor's cached specs
