from django.apps import AppConfig


class MappingsConfig(AppConfig):
    name = "mappings"
    verbose_name = "Mappings"

    def ready(self):
        from . import dashboard, receivers  # noqa: F401  dashboard registers the gap panel

        receivers.connect()
