import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from expensico_sync.core.models import Organization


class ReportSchedule(models.Model):
    class Report(models.TextChoices):
        EXPORT_RECORDS = "export_records", "Export records of the last period"
        REVIEW_ITEMS = "review_items", "Open review items"
        RECONCILIATIONS = "reconciliations", "Last month's reconciliations (rows per account)"
        EVIDENCE_PACK = "evidence_pack", "Last month's evidence pack (zip)"

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "Excel (XLSX)"

    class Cadence(models.TextChoices):
        MONTHLY = "monthly", "Monthly, on a day of the month"
        WEEKLY = "weekly", "Weekly, on a day of the week"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="report_schedules")
    report = models.CharField(max_length=20, choices=Report.choices)
    format = models.CharField(max_length=4, choices=Format.choices, default=Format.XLSX,
                              help_text="Ignored for the evidence pack (always a zip).")
    cadence = models.CharField(max_length=8, choices=Cadence.choices, default=Cadence.MONTHLY)
    day = models.PositiveSmallIntegerField(default=1, help_text="Monthly: 1–28. Weekly: 1 (Monday) – 7 (Sunday).")
    connection = models.ForeignKey("connectors.Connection", null=True, blank=True, on_delete=models.CASCADE,
                                   help_text="For the evidence pack: which connection's books.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    active = models.BooleanField(default=True)
    last_run_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
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
    """A built report, kept privately; emailed as a signed link that expires."""

    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    schedule = models.ForeignKey(ReportSchedule, on_delete=models.CASCADE, related_name="generated")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    file = models.FileField(upload_to="reports/%Y/%m/")
    sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.filename
