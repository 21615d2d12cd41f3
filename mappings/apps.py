from django.apps import AppConfig


class MappingsConfig(AppConfig):
    name = "mappings"
    verbose_name = "Mappings"

    def ready(self):
        from expensico_sync.core.devstack import devstack_register

        from . import (  # noqa: F401  dashboard and drift register their panels
            dashboard,
            drift,
            receivers,
            setup_step,  # noqa: F401  the guided setup's "map categories" step
        )

        receivers.connect()
        devstack_register("mappings.devstack")
