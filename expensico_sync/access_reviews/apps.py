from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AccessReviewsConfig(AppConfig):
    name = "expensico_sync.access_reviews"
    label = "access_reviews"
    verbose_name = _("Access reviews")

    def ready(self):
        from .receivers import ensure_schedule

        post_migrate.connect(ensure_schedule, sender=self, dispatch_uid="access_reviews.schedule")
