import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from expensico_sync.core.models import Organization


class ReportSchedule(models.Model):
    class Report(models.TextChoices):
        EXPORT_RECORDS = "export_records", _("Export records of the last period")
        REVIEW_ITEMS = "review_items", _("Open review items")
        RECONCILIATIONS = "reconciliations", _("Last month's reconciliations (rows per account)")
        EVIDENCE_PACK = "evidence_pack", _("Last month's evidence pack (zip)")

    class Format(models.TextChoices):
        CSV = "csv", _("CSV")
        XLSX = "xlsx", _("Excel (XLSX)")

    class Cadence(models.TextChoices):
        MONTHLY = "monthly", _("Monthly, on a day of the month")
        WEEKLY = "weekly", _("Weekly, on a day of the week")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="report_schedules", verbose_name=_("organisation"))
    report = models.CharField(max_length=20, choices=Report.choices, verbose_name=_("report"))
    format = models.CharField(max_length=4, choices=Format.choices, default=Format.XLSX,
                              help_text=_("Ignored for the evidence pack (always a zip)."), verbose_name=_("format"))
    cadence = models.CharField(max_length=8, choices=Cadence.choices, default=Cadence.MONTHLY, verbose_name=_("cadence"))
    day = models.PositiveSmallIntegerField(default=1, help_text=_("Monthly: 1–28. Weekly: 1 (Monday) – 7 (Sunday)."), verbose_name=_("day"))
    connection = models.ForeignKey("connectors.Connection", null=True, blank=True, on_delete=models.CASCADE,
                                   help_text=_("For the evidence pack: which connection's books."), verbose_name=_("connection"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("created by"))
    active = models.BooleanField(default=True, verbose_name=_("active"))
    last_run_on = models.DateField(null=True, blank=True, verbose_name=_("last run on"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("report schedule")
        verbose_name_plural = _("report schedules")
        ordering = ["organization", "report", "id"]

    def __str__(self) -> str:
        return f"{self.get_report_display()} · {self.get_cadence_display().split(',')[0]} · {self.organization}"

    def clean(self):
        limit = 28 if self.cadence == self.Cadence.MONTHLY else 7
        if not 1 <= (self.day or 0) <= limit:
            raise ValidationError({"day": f"For a {self.cadence} report the day is 1–{limit}."})
        if self.report == self.Report.EVIDENCE_PACK and self.connection_id is None:
            raise ValidationError({"connection": "The evidence pack is per connection: choose one."})
        if self.connection_id and self.connection.organization_id != self.organization_id:
            raise ValidationError({"connection": "That connection belongs to another organisation."})

    def due_on(self, day) -> bool:
        if not self.active or self.last_run_on == day:
            return False
        return day.day == self.day if self.cadence == self.Cadence.MONTHLY else day.isoweekday() == self.day


class GeneratedReport(models.Model):
    """A built report, kept privately; emailed as a signed link that expires. An evidence pack is
    not copied: the report points at the stored pack the close's task builds, waits while it
    builds, and is delivered (or its failure reported) when the build ends."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting for the evidence pack")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False, verbose_name=_("token"))
    schedule = models.ForeignKey(ReportSchedule, on_delete=models.CASCADE, related_name="generated", verbose_name=_("schedule"))
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("organisation"))
    filename = models.CharField(max_length=200, verbose_name=_("filename"))
    content_type = models.CharField(max_length=100, verbose_name=_("content type"))
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.READY, verbose_name=_("status"))
    file = models.FileField(upload_to="reports/%Y/%m/", blank=True, default="", verbose_name=_("file"))
    evidence_pack = models.ForeignKey("exports.EvidencePack", null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="+", verbose_name=_("evidence pack"),
                                      help_text=_("The stored pack this report links to (evidence pack reports)"))
    error = models.TextField(blank=True, default="", verbose_name=_("error"))
    error_message = models.JSONField(default=dict, blank=True, verbose_name=_("error (message code)"))
    sha256 = models.CharField(max_length=64, blank=True, default="", verbose_name=_("SHA-256"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    expires_at = models.DateTimeField(verbose_name=_("expires at"))

    class Meta:
        verbose_name = _("generated report")
        verbose_name_plural = _("generated reports")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.filename
