import hashlib
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core import signing
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from expensico_sync.notify.kinds import register_kind
from expensico_sync.notify.services import notify

from ..close.evidence import evidence_filename, evidence_pack_build
from ..close.resources import ExportRecordResource, ReviewItemResource
from ..models import ExportRecord, ReconciliationRow, ReviewItem
from ..reconcile.resources import ReconciliationRowResource
from .models import GeneratedReport, ReportSchedule

READY = register_kind("report.ready", gettext_lazy("Scheduled report ready"), roles={"owner", "finance_admin"})
SALT = "exports.reports.download"
TYPES = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         "zip": "application/zip"}


def window(schedule: ReportSchedule, today: date) -> tuple[date, date]:
    """The period a report covers: the previous calendar month, or the previous seven days."""
    if schedule.cadence == ReportSchedule.Cadence.MONTHLY:
        start = (today.replace(day=1) - relativedelta(months=1))
        return start, today.replace(day=1)
    return today - timedelta(days=7), today


def build(schedule: ReportSchedule, today: date) -> tuple[str, bytes]:
    start, end = window(schedule, today)
    org = schedule.organization
    if schedule.report == ReportSchedule.Report.EVIDENCE_PACK:
        return evidence_filename(schedule.connection, start), evidence_pack_build(connection=schedule.connection,
                                                                                 period=start)
    if schedule.report == ReportSchedule.Report.EXPORT_RECORDS:
        rows = ExportRecord.objects.filter(organization=org, document_date__gte=start, document_date__lt=end)
        dataset = ExportRecordResource().export(rows.select_related("connection").order_by("id"))
        name = f"export-records-{org.slug}-{start:%Y%m%d}-{end:%Y%m%d}"
    elif schedule.report == ReportSchedule.Report.RECONCILIATIONS:
        month = today.replace(day=1) - relativedelta(months=1)
        lines = ReconciliationRow.objects.filter(reconciliation__organization=org, reconciliation__period=month,
                                                 reconciliation__status="finished")
        dataset = ReconciliationRowResource().export(lines.select_related("reconciliation__connection")
                                                     .order_by("reconciliation__connection__name", "pk"))
        name = f"reconciliations-{org.slug}-{month:%Y-%m}"
    else:
        items = ReviewItem.objects.filter(organization=org, resolved_at__isnull=True)
        dataset = ReviewItemResource().export(items.select_related("record").order_by("sla_due_at"))
        name = f"review-items-{org.slug}-{today:%Y%m%d}"
    data = dataset.export(schedule.format)
    return f"{name}.{schedule.format}", data.encode() if isinstance(data, str) else data


def deliver(schedule: ReportSchedule, today: date) -> GeneratedReport:
    filename, content = build(schedule, today)
    extension = filename.rsplit(".", 1)[-1]
    with transaction.atomic():
        report = GeneratedReport(schedule=schedule, organization=schedule.organization, filename=filename,
                                 content_type=TYPES[extension], sha256=hashlib.sha256(content).hexdigest(),
                                 expires_at=timezone.now() + timedelta(days=settings.REPORT_LINK_DAYS))
        report.file.save(f"{report.token}.{extension}", ContentFile(content), save=False)
        report.save()
        ReportSchedule.objects.filter(pk=schedule.pk).update(last_run_on=today)
        notify(READY.key, organization=schedule.organization, incident=f"report:{report.pk}",
               subject=lambda: _("%(report)s for %(organization)s is ready") % {
                   "report": schedule.get_report_display(), "organization": schedule.organization.name},
               text=lambda: _("%(file)s (%(size)s bytes, SHA-256 %(sha)s…) is ready. The link works for %(days)s "
                              "days, for members of %(organization)s who are signed in.") % {
                   "file": filename, "size": f"{len(content):,}", "sha": report.sha256[:16],
                   "days": settings.REPORT_LINK_DAYS, "organization": schedule.organization.name},
               link=download_path(report))
    return report


def download_path(report: GeneratedReport) -> str:
    return reverse("report-download", args=[signing.dumps(str(report.token), salt=SALT)])


def read_token(token: str) -> str:
    return signing.loads(token, salt=SALT, max_age=timedelta(days=settings.REPORT_LINK_DAYS))


def run_due(today: date | None = None) -> list[GeneratedReport]:
    today = today or timezone.localdate()
    done = []
    for schedule in ReportSchedule.objects.filter(active=True).select_related("organization", "connection"):
        if schedule.due_on(today):
            done.append(deliver(schedule, today))
    return done
