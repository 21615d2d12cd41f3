"""A built evidence pack: one zip per connection × month, built by a django-q2 task and kept in
the storage backend (served only through the admin and the API, never as a public media URL)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class EvidencePack(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        BUILDING = "building", _("Building")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    ACTIVE = (Status.QUEUED, Status.BUILDING)

    connection = models.ForeignKey("connectors.Connection", on_delete=models.CASCADE, related_name="evidence_packs",
                                   verbose_name=_("connection"))
    period = models.DateField(help_text=_("The first day of the month"), verbose_name=_("period"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, verbose_name=_("status"))
    progress = models.PositiveSmallIntegerField(default=0, help_text=_("Per cent of the rows written"),
                                                verbose_name=_("progress"))
    rows_total = models.PositiveIntegerField(default=0, verbose_name=_("rows in total"))
    rows_done = models.PositiveIntegerField(default=0, verbose_name=_("rows written"))
    file = models.FileField(upload_to="evidence/%Y/%m/", blank=True, default="", verbose_name=_("file"))
    sha256 = models.CharField(max_length=64, blank=True, default="", verbose_name=_("SHA-256"))
    size = models.BigIntegerField(null=True, blank=True, verbose_name=_("size"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+", verbose_name=_("requested by"))
    requested_at = models.DateTimeField(auto_now_add=True, verbose_name=_("requested at"))
    started_at = models.DateTimeField(null=True, blank=True, verbose_name=_("started at"))
    built_at = models.DateTimeField(null=True, blank=True, verbose_name=_("built at"))
    error = models.TextField(blank=True, default="", verbose_name=_("error"))

    class Meta:
        verbose_name = _("evidence pack")
        verbose_name_plural = _("evidence packs")
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["connection", "period", "-id"], name="evidence_pack_latest")]
        constraints = [models.UniqueConstraint(fields=["connection", "period"], condition=Q(status__in=["queued", "building"]),
                                               name="evidence_pack_one_build")]

    def __str__(self) -> str:
        return f"Evidence {self.period:%Y-%m} · {self.connection_id} ({self.get_status_display()})"
