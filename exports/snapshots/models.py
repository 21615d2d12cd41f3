from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from expensico_sync.core.models import Organization


class Snapshot(models.Model):
    """One stored computation: `kind` (checklist, metrics) × organisation × month."""

    kind = models.CharField(max_length=20)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    period = models.DateField(help_text="The first day of the month")
    payload = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)  # lazy labels, dates
    computed_at = models.DateTimeField(null=True, blank=True, help_text="As of: when the payload was computed")
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    requested_at = models.DateTimeField(null=True, blank=True, help_text="When a refresh was last queued")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "organization", "period"], name="snapshot_unique")]

    def __str__(self) -> str:
        return f"{self.kind} {self.period:%Y-%m} · {self.organization_id}"
