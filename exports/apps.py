from django.apps import AppConfig


class ExportsConfig(AppConfig):
    name = "exports"
    verbose_name = "Exports"

    def ready(self):
        from expensico_sync.core.devstack import devstack_register

        from . import dashboard, receivers  # noqa: F401  (the dashboard panel registers on import)
        from .services import coding  # noqa: F401  registers the booked history the categoriser learns from

        receivers.connect()
        devstack_register("exports.devstack")
