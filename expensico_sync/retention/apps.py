from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class RetentionConfig(AppConfig):
    name = "expensico_sync.retention"
    label = "retention"
    verbose_name = _("Retention")

    def ready(self):
        from .receivers import ensure_schedule

        post_migrate.connect(ensure_schedule, sender=self, dispatch_uid="retention.schedule")
