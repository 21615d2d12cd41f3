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

from ..close.evidence import evidence_filename
from ..close.models import EvidencePack
from ..close.packs import pack_abandoned, pack_latest, pack_request, pack_servable
from ..close.resources import ExportRecordResource, ReviewItemResource
from ..messages import said, shown, stored_of
from ..models import ExportRecord, ReconciliationRow, ReviewItem
from ..reconcile.resources import ReconciliationRowResource
from .models import GeneratedReport, ReportSchedule

READY = register_kind("report.ready", gettext_lazy("Scheduled report ready"), roles={"owner", "finance_admin"})
FAILED = register_kind("report.failed", gettext_lazy("Scheduled report failed"), roles={"owner", "finance_admin"})
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
    """A tabular report, built in memory (it is small). The evidence pack is never built here."""
    start, end = window(schedule, today)
    org = schedule.organization
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
    if schedule.report == ReportSchedule.Report.EVIDENCE_PACK:
        return evidence_request(schedule, today)
    filename, content = build(schedule, today)
    extension = filename.rsplit(".", 1)[-1]
    with transaction.atomic():
        report = GeneratedReport(schedule=schedule, organization=schedule.organization, filename=filename,
                                 content_type=TYPES[extension], sha256=hashlib.sha256(content).hexdigest(),
                                 expires_at=_expiry())
        report.file.save(f"{report.token}.{extension}", ContentFile(content), save=False)
        report.save()
        ReportSchedule.objects.filter(pk=schedule.pk).update(last_run_on=today)
        _ready_notify(report, size=len(content))
    return report


def _expiry():
    return timezone.now() + timedelta(days=settings.REPORT_LINK_DAYS)


def _ready_notify(report: GeneratedReport, *, size: int) -> None:
    schedule, org = report.schedule, report.organization
    notify(READY.key, organization=org, incident=f"report:{report.pk}",
           subject=lambda: _("%(report)s for %(organization)s is ready") % {
               "report": schedule.get_report_display(), "organization": org.name},
           text=lambda: _("%(file)s (%(size)s bytes, SHA-256 %(sha)s…) is ready. The link works for %(days)s "
                          "days, for members of %(organization)s who are signed in.") % {
               "file": report.filename, "size": f"{size:,}", "sha": report.sha256[:16],
               "days": settings.REPORT_LINK_DAYS, "organization": org.name},
           link=download_path(report))


def evidence_period(today: date) -> date:
    """The evidence pack covers last calendar month, whatever the cadence."""
    return today.replace(day=1) - relativedelta(months=1)


def evidence_request(schedule: ReportSchedule, today: date) -> GeneratedReport:
    """Links the month's stored pack, asking the close's streamed task to build it when none is
    servable; the report waits and is delivered when the build ends (`evidence_settle`). Never
    builds the pack here: a large month would outlast this task's timeout."""
    connection, period = schedule.connection, evidence_period(today)
    pack = pack_latest(connection=connection, period=period)
    if not pack_servable(pack):
        pack = pack_request(connection=connection, period=period, by=schedule.created_by)
    report = GeneratedReport.objects.create(
        schedule=schedule, organization=schedule.organization, filename=evidence_filename(connection, period),
        content_type=TYPES["zip"], status=GeneratedReport.Status.WAITING, evidence_pack=pack, expires_at=_expiry())
    ReportSchedule.objects.filter(pk=schedule.pk).update(last_run_on=today)
    return evidence_settle(report.pk) or report


def evidence_settle(report_id: int) -> GeneratedReport | None:
    """A waiting evidence report whose build has ended: ready (the link is emailed) or failed (the
    failure is emailed, with the reason). Still building: left waiting. Each outcome happens
    once, whoever calls (the build's signal, the report's own run, the daily sweep)."""
    report = (GeneratedReport.objects.select_related("evidence_pack", "schedule__organization", "organization")
              .filter(pk=report_id).first())
    if report is None or report.status != GeneratedReport.Status.WAITING:
        return report
    pack = report.evidence_pack
    if pack is not None and pack.status in EvidencePack.ACTIVE and not pack_abandoned(pack):
        return report
    ready = pack if pack is not None and pack.status == EvidencePack.Status.READY and pack.file.name else None
    with transaction.atomic():
        waiting = GeneratedReport.objects.filter(pk=report.pk, status=GeneratedReport.Status.WAITING)
        if ready is not None:
            if not waiting.update(status=GeneratedReport.Status.READY, sha256=ready.sha256, expires_at=_expiry()):
                return GeneratedReport.objects.get(pk=report.pk)
            report.refresh_from_db()
            _ready_notify(report, size=ready.size or 0)
            return report
        reason = _failure_reason(pack)
        if not waiting.update(status=GeneratedReport.Status.FAILED, error=str(reason),
                              error_message=stored_of(reason)):
            return GeneratedReport.objects.get(pk=report.pk)
        report.refresh_from_db()
        org = report.organization
        notify(FAILED.key, organization=org, incident=f"report:{report.pk}",
               subject=lambda: _("%(report)s for %(organization)s could not be built") % {
                   "report": report.schedule.get_report_display(), "organization": org.name},
               text=lambda: _("%(file)s was not built: %(reason)s. Build it again from Close → Months (the month's "
                              "page); the schedule itself runs again on its next day.") % {
                   "file": report.filename, "reason": shown(str(reason), stored_of(reason))})
    return report


def _failure_reason(pack: EvidencePack | None) -> str:
    """Ours as a message (exports/messages.py, shown in the reader's language); the build's own error as it was."""
    if pack is None:
        return said("pack_removed")
    if pack.status in EvidencePack.ACTIVE:
        return said("pack_abandoned")
    return pack.error or said("pack_failed")


def evidence_settle_waiting() -> int:
    """The sweep (every 15 minutes, and before each daily run): settles what a lost signal or a dead
    worker left waiting. Returns how many it settled."""
    ids = GeneratedReport.objects.filter(status=GeneratedReport.Status.WAITING).values_list("pk", flat=True)
    return sum(1 for pk in list(ids)
               if (r := evidence_settle(pk)) is not None and r.status != GeneratedReport.Status.WAITING)


def on_pack_finished(sender, *, pack_id: int, **kwargs) -> None:
    for pk in list(GeneratedReport.objects.filter(evidence_pack_id=pack_id, status=GeneratedReport.Status.WAITING)
                   .values_list("pk", flat=True)):
        evidence_settle(pk)


def download_path(report: GeneratedReport) -> str:
    return reverse("report-download", args=[signing.dumps(str(report.token), salt=SALT)])


def read_token(token: str) -> str:
    return signing.loads(token, salt=SALT, max_age=timedelta(days=settings.REPORT_LINK_DAYS))


def run_due(today: date | None = None) -> list[GeneratedReport]:
    today = today or timezone.localdate()
    evidence_settle_waiting()
    done = []
    for schedule in ReportSchedule.objects.filter(active=True).select_related("organization", "connection"):
        if schedule.due_on(today):
            done.append(deliver(schedule, today))
    return done
