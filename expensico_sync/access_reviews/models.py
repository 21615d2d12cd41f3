from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from expensico_sync.core.models import Organization


class AccessReview(models.Model):
    """A snapshot of an organisation's members and API keys, with what looks wrong, that an owner
    confirms (or fixes first). Opened every ACCESS_REVIEW_MONTHS months."""

    class Status(models.TextChoices):
        OPEN = "open", "Waiting for an owner"
        CONFIRMED = "confirmed", "Confirmed"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="access_reviews")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    opened_at = models.DateTimeField(auto_now_add=True)
    due_at = models.DateTimeField()
    members = models.JSONField(default=list, blank=True)
    api_keys = models.JSONField(default=list, blank=True)
    findings = models.JSONField(default=list, blank=True)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    confirmed_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(blank=True, default="")
    history = HistoricalRecords()

    class Meta:
        ordering = ["-opened_at", "-id"]

    def __str__(self) -> str:
        return f"Access review {self.opened_at:%Y-%m-%d} · {self.organization}"
