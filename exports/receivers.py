"""Signal receivers: the source mirror's announcements become export records in the sender's
transaction; organisation, pilot and mapping changes re-queue what was waiting on them."""

from django.db import transaction
from django.db.models.signals import m2m_changed, post_migrate, post_save, pre_save
from django.utils import timezone
from django_q.models import Schedule

from connectors.models import Connection
from expensico_sync.core.models import Organization
from expensico_sync.source import signals as source
from mappings.signals import mappings_changed

from .close.packs import pack_finished
from .models import ExportRecord, PilotScope
from .reports.services import on_pack_finished
from .services import gates, records, review
from .transitions import Status


def on_report_approved(sender, organization, report, expenses, **kwargs):
    # Also covers expense_superseded: a higher version arrives here and retires the older one.
    records.expense_records_create(organization=organization, expenses=expenses)


def on_expense_cancelled(sender, organization, expense, **kwargs):
    records.expense_records_cancel(organization=organization, expense=expense)


def on_funding(sender, organization, funding, **kwargs):
    records.funding_records_create(organization=organization, fundings=[funding])


def on_reimbursement(sender, organization, reimbursement, **kwargs):
    records.reimbursement_records_create(organization=organization, reimbursements=[reimbursement])


def on_statement_lines(sender, organization, lines, **kwargs):
    records.statement_records_create(organization=organization, lines=lines)


def waiting_requeue(*, organization_id: int, connection_id: int | None = None, reason: str | None = None) -> int:
    """Records parked by mode, pilot scope or a paused connection become due again (the gate
    decides afresh)."""
    with transaction.atomic():
        qs = ExportRecord.objects.filter(organization_id=organization_id, status=Status.PENDING).exclude(wait_reason="")
        if connection_id is not None:
            qs = qs.filter(connection_id=connection_id)
        if reason is not None:
            qs = qs.filter(wait_reason=reason)
        ids = list(qs.values_list("pk", flat=True))
        ExportRecord.objects.filter(pk__in=ids, status=Status.PENDING).update(
            next_attempt_at=timezone.now(), wait_reason="")
        records.enqueue_on_commit(ids)
    return len(ids)


def on_org_pre_save(sender, instance, **kwargs):
    instance._exports_old_mode = (Organization.objects.filter(pk=instance.pk).values_list("mode", flat=True)
                                  .first() if instance.pk else None)


def on_org_saved(sender, instance, created, **kwargs):
    if not created and getattr(instance, "_exports_old_mode", None) not in (None, instance.mode):
        waiting_requeue(organization_id=instance.pk)


def on_pilot_scope_changed(sender, instance, **kwargs):
    org_id = instance.organization_id if isinstance(instance, PilotScope) else None
    if org_id:
        waiting_requeue(organization_id=org_id)


def on_connection_saved(sender, instance, created, **kwargs):
    # Connections are saved often (token refreshes): only records parked by a pause come back.
    if not created and instance.status != Connection.Status.PAUSED:
        waiting_requeue(organization_id=instance.organization_id, connection_id=instance.pk,
                        reason=gates.CONNECTION_PAUSED)
    if not created and instance.active:
        waiting_requeue(organization_id=instance.organization_id, connection_id=instance.pk,
                        reason=gates.CONNECTION_INACTIVE)


def on_mappings_changed(sender, organization, connection, kinds, **kwargs):
    review.review_items_requeue_mapping_gaps(connection=connection)


def ensure_sweeper(sender, **kwargs):
    """One sweeper schedule, every minute; idempotent (post_migrate runs on every migrate)."""
    if sender.name != "exports":
        return
    Schedule.objects.update_or_create(
        name="exports.sweep",
        defaults={"func": "exports.tasks.sweep", "schedule_type": Schedule.MINUTES, "minutes": 1,
                  "repeats": -1})
    Schedule.objects.update_or_create(
        name="exports.reports_due",
        defaults={"func": "exports.reports.tasks.reports_due_task", "schedule_type": Schedule.CRON,
                  "cron": "0 5 * * *", "repeats": -1})
    Schedule.objects.update_or_create(   # scheduled evidence reports whose pack's build ended without a word
        name="exports.reports_settle",
        defaults={"func": "exports.reports.tasks.reports_settle_task", "schedule_type": Schedule.MINUTES,
                  "minutes": 15, "repeats": -1})
    Schedule.objects.update_or_create(
        name="exports.vendor_status_recheck",
        defaults={"func": "exports.tasks.vendor_status_recheck", "schedule_type": Schedule.MINUTES, "minutes": 15,
                  "repeats": -1})
    Schedule.objects.update_or_create(
        name="exports.alerts_scan",
        defaults={"func": "exports.alerts.scan", "schedule_type": Schedule.MINUTES, "minutes": 5, "repeats": -1})
    Schedule.objects.update_or_create(   # the open months' live checklists and metrics, read by pages and the API
        name="exports.snapshots_refresh",
        defaults={"func": "exports.snapshots.tasks.snapshots_refresh_open_months", "schedule_type": Schedule.MINUTES,
                  "minutes": 5, "repeats": -1})


def connect():
    source.report_approved.connect(on_report_approved, dispatch_uid="exports.report_approved")
    source.expense_cancelled.connect(on_expense_cancelled, dispatch_uid="exports.expense_cancelled")
    source.funding_recorded.connect(on_funding, dispatch_uid="exports.funding_recorded")
    source.reimbursement_recorded.connect(on_reimbursement, dispatch_uid="exports.reimbursement_recorded")
    source.statement_lines_recorded.connect(on_statement_lines, dispatch_uid="exports.statement_lines")
    mappings_changed.connect(on_mappings_changed, dispatch_uid="exports.mappings_changed")
    pack_finished.connect(on_pack_finished, dispatch_uid="exports.reports_pack_finished")
    pre_save.connect(on_org_pre_save, sender=Organization, dispatch_uid="exports.org_pre_save")
    post_save.connect(on_org_saved, sender=Organization, dispatch_uid="exports.org_saved")
    post_save.connect(on_connection_saved, sender=Connection, dispatch_uid="exports.connection_saved")
    post_save.connect(on_pilot_scope_changed, sender=PilotScope, dispatch_uid="exports.pilot_saved")
    for field in ("employees", "categories"):
        m2m_changed.connect(on_pilot_scope_changed, sender=getattr(PilotScope, field).through,
                            dispatch_uid=f"exports.pilot_{field}")
    post_migrate.connect(ensure_sweeper, dispatch_uid="exports.ensure_sweeper")
