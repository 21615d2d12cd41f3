"""A built evidence pack: one zip per connection × month, built by a django-q2 task and kept in
the storage backend (served only through the admin and the API, never as a public media URL)."""

from django.conf import settings
from django.db import models
from django.db.models import Q


class EvidencePack(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        BUILDING = "building", "Building"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    ACTIVE = (Status.QUEUED, Status.BUILDING)

    connection = models.ForeignKey("connectors.Connection", on_delete=models.CASCADE, related_name="evidence_packs")
    period = models.DateField(help_text="The first day of the month")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Per cent of the rows written")
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    file = models.FileField(upload_to="evidence/%Y/%m/", blank=True, default="")
    sha256 = models.CharField(max_length=64, blank=True, default="")
    size = models.BigIntegerField(null=True, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    built_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["connection", "period", "-id"], name="evidence_pack_latest")]
        constraints = [models.UniqueConstraint(fields=["connection", "period"], condition=Q(status__in=["queued", "building"]),
                                               name="evidence_pack_one_build")]

    def __str__(self) -> str:
        return f"Evidence {self.period:%Y-%m} · {self.connection_id} ({self.get_status_display()})"
