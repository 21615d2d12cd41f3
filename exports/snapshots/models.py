from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext_lazy as _

from expensico_sync.core.models import Organization


class Snapshot(models.Model):
    """One stored computation: `kind` (checklist, metrics) × organisation × month."""

    kind = models.CharField(max_length=20, verbose_name=_("kind"))
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+",
                                     verbose_name=_("organisation"))
    period = models.DateField(help_text=_("The first day of the month"), verbose_name=_("period"))
    payload = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder,  # lazy labels, dates
                               verbose_name=_("payload"))
    computed_at = models.DateTimeField(null=True, blank=True, help_text=_("As of: when the payload was computed"),
                                       verbose_name=_("computed at"))
    duration_ms = models.PositiveIntegerField(null=True, blank=True, verbose_name=_("duration (milliseconds)"))
    requested_at = models.DateTimeField(null=True, blank=True, help_text=_("When a refresh was last queued"),
                                        verbose_name=_("requested at"))

    class Meta:
        verbose_name = _("snapshot")
        verbose_name_plural = _("snapshots")
        constraints = [models.UniqueConstraint(fields=["kind", "organization", "period"], name="snapshot_unique")]

    def __str__(self) -> str:
        return f"{self.kind} {self.period:%Y-%m} · {self.organization_id}"
