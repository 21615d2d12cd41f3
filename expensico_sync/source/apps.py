from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SourceConfig(AppConfig):
    name = "expensico_sync.source"
    label = "source"
    verbose_name = _("Expensico")

    def ready(self):
        from expensico_sync.core.devstack import devstack_register

        from . import dashboard, retention  # noqa: F401  register the intake panel and retention policies

        devstack_register("expensico_sync.source.devstack")
