from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExportsConfig(AppConfig):
    name = "exports"
    verbose_name = _("Exports")

    def ready(self):
        from expensico_sync.core.devstack import devstack_register

        from . import (  # noqa: F401  (panels, alert kinds and digest sections register on import)
            activation,  # noqa: F401  the guided setup's activation preview and start
            admin_records,  # noqa: F401  export records as documents (imports .admin, re-registers ExportRecord)
            admin_runs,  # noqa: F401  sync runs: preview, live counters (imports .admin, re-registers SyncRun)
            alerts,
            dashboard,
            receivers,
            retention,
        )
        from .anomalies import sync as _sync_anomalies  # noqa: F401  (its notification kinds register)
        from .close import checklist  # noqa: F401  (the built-in close checklist items register on import)
        from .reconcile import close as _close  # noqa: F401  (checklist item and evidence part register)
        from .reconcile import dashboard as _panel  # noqa: F401  (the reconciliation panel registers)
        from .services import (
            batch,
            coding,  # noqa: F401  registers the booked history the categoriser learns from
        )

        receivers.connect()
        batch.register()   # claimed records of one connection go out together where the vendor takes many
        devstack_register("exports.devstack")
