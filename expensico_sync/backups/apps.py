from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class BackupsConfig(AppConfig):
    name = "expensico_sync.backups"
    label = "backups"
    verbose_name = _("Backups")

    def ready(self):
        from . import checks  # noqa: F401
        from .receivers import ensure_schedules

        post_migrate.connect(ensure_schedules, sender=self, dispatch_uid="backups.schedules")
