from django.apps import AppConfig


class MappingsConfig(AppConfig):
    name = "mappings"
    verbose_name = "Mappings"

    def ready(self):
        from expensico_sync.core.devstack import devstack_register

        from . import dashboard, drift, receivers  # noqa: F401  dashboard and drift register their panels

        receivers.connect()
        devstack_register("mappings.devstack")
