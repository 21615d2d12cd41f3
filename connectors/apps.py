from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class ConnectorsConfig(AppConfig):
    name = "connectors"
    verbose_name = _("Connectors")

    def ready(self):
        from expensico_sync.access_reviews.services import register_credential_source
        from expensico_sync.core.devstack import devstack_register

        from . import (  # noqa: F401  (check, panel, retention policy and stored texts register on import)
            checks,
            dashboard,
            preflight,
            retention,
        )
        from .access import vendor_credentials
        from .receivers import ensure_schedules
        from .registry import vendors

        register_credential_source(vendor_credentials)
        post_migrate.connect(ensure_schedules, sender=self, dispatch_uid="connectors.schedules")

        for vendor in vendors():
            # Imported now, as the folder scan did: a vendor's module may register panels of its own.
            vendor.connector_class()
            if devstack := vendor.module_name("devstack"):
                devstack_register(devstack)
