from django.apps import AppConfig


class ExportsConfig(AppConfig):
    name = "exports"
    verbose_name = "Exports"

    def ready(self):
        from expensico_sync.core.devstack import devstack_register

        from . import alerts, dashboard, receivers, retention  # noqa: F401  (panels, alert kinds and digest sections register on import)
        from .close import checklist  # noqa: F401  (the built-in close checklist items register on import)

        receivers.connect()
        devstack_register("exports.devstack")
