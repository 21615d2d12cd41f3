from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from expensico_sync.core.models import Organization


class AccessReview(models.Model):
    """A snapshot of an organisation's members and API keys, with what looks wrong, that an owner
    confirms (or fixes first). Opened every ACCESS_REVIEW_MONTHS months."""

    class Status(models.TextChoices):
        OPEN = "open", _("Waiting for an owner")
        CONFIRMED = "confirmed", _("Confirmed")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="access_reviews", verbose_name=_("organisation"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN, verbose_name=_("status"))
    opened_at = models.DateTimeField(auto_now_add=True, verbose_name=_("opened at"))
    due_at = models.DateTimeField(verbose_name=_("due at"))
    members = models.JSONField(default=list, blank=True, verbose_name=_("members"))
    api_keys = models.JSONField(default=list, blank=True, verbose_name=_("API keys"))
    findings = models.JSONField(default=list, blank=True, verbose_name=_("findings"))
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+", verbose_name=_("confirmed by"))
    confirmed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("confirmed at"))
    comment = models.TextField(blank=True, default="", verbose_name=_("comment"))
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("access review")
        verbose_name_plural = _("access reviews")
        ordering = ["-opened_at", "-id"]

    def __str__(self) -> str:
        return f"Access review {self.opened_at:%Y-%m-%d} · {self.organization}"
