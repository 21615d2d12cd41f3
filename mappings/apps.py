from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MappingsConfig(AppConfig):
    name = "mappings"
    verbose_name = _("Mappings")

    def ready(self):
        from expensico_sync.core.devstack import devstack_register

        from . import (  # noqa: F401  dashboard and drift register their panels  # noqa: F401  their stored texts register on import
            allowances,
            dashboard,
            drift,
            preflight,
            receivers,
            resolve,
            setup_step,  # noqa: F401  the guided setup's "map categories" step
        )

        receivers.connect()
        devstack_register("mappings.devstack")
