from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class NotifyConfig(AppConfig):
    name = "expensico_sync.notify"
    label = "notify"
    verbose_name = _("Notifications")

    def ready(self):
        from expensico_sync.core.devstack import devstack_register

        from . import receivers

        receivers.connect()
        post_migrate.connect(receivers.ensure_schedules, sender=self, dispatch_uid="notify.schedules")
        devstack_register("expensico_sync.notify.devstack")
