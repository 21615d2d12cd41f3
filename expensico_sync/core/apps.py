from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "expensico_sync.core"
    label = "core"
    verbose_name = _("Setup")

    def ready(self):
        from . import checks, signals  # noqa: F401
        from .admin import readonly, rows

        rows.install()  # Unfold's changelist rows without their per-row recomputation
        readonly.install()  # a change page's read-only fields computed once, not five times
