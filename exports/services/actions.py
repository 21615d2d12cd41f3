"""What a person or an API client asks of the engine: export an expense (one or a batch), its
status, the mapped payload without sending, retry what failed; and the per-record actions the
API and the admin share (cancel, retry now, re-export, vendor callback)."""

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from connectors.models import Connection
from expensico_sync.source.models import Expense

from ..entries import entry_to_json
from ..errors import ExportError, IllegalTransition, NoSourceDocument
from ..messages import said
from ..models import ExportRecord, Kind, ReviewItem
from ..transitions import Status
from .preview import payload_preview
from .records import enqueue_on_commit, expense_records_create
from .resolution import record_resolve
from .review import By, review_item_open, review_item_resolve, review_items_retry
from .status_update import record_transition

# An expense is named by its Expensico id or our id; a connection by itself or its id.
ExpenseId = str | int
Target = Connection | int | str


def _connection(target: Target) -> Connection:
    if isinstance(target, Connection):
        return target
    try:
        return Connection.objects.get(pk=target)
    except (Connection.DoesNotExist, ValueError, TypeError):
        raise ExportError(f"unknown target connection {target!r}", code="unknown_target") from None


def _expense(expense_id: ExpenseId, organization_id: int) -> Expense:
    qs = Expense.objects.filter(organization_id=organization_id).select_related("report", "category", "employee")
    expense = qs.filter(expensico_id=str(expense_id)).first()
    if expense is None and str(expense_id).isdecimal():
        expense = qs.filter(pk=int(expense_id)).first()
    if expense is None:
        raise ExportError(f"no expense {expense_id!r} in this organisation", code="unknown_expense")
    return expense


def export_expense(*, expense_id: ExpenseId, target: Target) -> ExportRecord:
    """Exports one approved expense (Expensico id or our id) to one connection; idempotent."""
    connection = _connection(target)
    expense = _expense(expense_id, connection.organization_id)
    if expense.status != Expense.Status.APPROVED:
        raise ExportError(f"expense {expense.expensico_id} is {expense.status}, not approved", code="not_approved")
    with transaction.atomic():
        key = {"connection": connection, "kind": Kind.EXPENSE, "source_id": expense.expensico_id,
               "source_version": expense.version}
        record = ExportRecord.objects.filter(**key).first()
        if record is None:
            # Creates records for every connection of the organisation, as an approval would.
            expense_records_create(organization=connection.organization, expenses=[expense])
            return ExportRecord.objects.get(**key)
        if record.status in (Status.PENDING, Status.RETRY):
            ExportRecord.objects.filter(pk=record.pk, status=record.status).update(
                next_attempt_at=timezone.now(), wait_reason="")
            enqueue_on_commit([record.pk])
        elif record.status == Status.CANCELLED:
            record_reexport(record=record)
        record.refresh_from_db()
        return record


def batch_export(*, expense_ids: Iterable[ExpenseId], target: Target) -> list[dict[str, Any]]:
    """Per-item results: one expense failing never stops the others."""
    results: list[dict[str, Any]] = []
    for expense_id in expense_ids:
        try:
            record = export_expense(expense_id=expense_id, target=target)
            results.append({"expense_id": str(expense_id), "ok": True, "record_id": record.pk,
                            "status": record.status, "error": None})
        except (ExportError, IllegalTransition) as exc:
            results.append({"expense_id": str(expense_id), "ok": False, "record_id": None, "status": None,
                            "error": {"code": getattr(exc, "code", "illegal_transition"), "detail": str(exc)}})
    return results


def get_export_status(*, expense_id: ExpenseId, organization_id: int) -> list[dict[str, Any]]:
    """Where one expense stands in every connection (all versions, newest first)."""
    expense = _expense(expense_id, organization_id)
    records = ExportRecord.objects.filter(organization_id=organization_id, source_id=expense.expensico_id,
                                          kind__in=[Kind.EXPENSE, Kind.REVERSAL]).order_by("-source_version", "kind")
    return [{"record_id": r.pk, "connection_id": r.connection_id, "kind": r.kind, "version": r.source_version,
             "status": r.status, "reference": r.reference, "external_id": r.external_id, "attempts": r.attempts}
            for r in records]


def map_to_accounting_schema(*, expense: Expense | ExpenseId, target: Target) -> dict[str, Any]:
    """Preview: the entry and vendor payload this expense would become. Sends nothing."""
    connection = _connection(target)
    if not isinstance(expense, Expense):
        expense = _expense(expense, connection.organization_id)
    probe = ExportRecord(organization_id=connection.organization_id, connection=connection, kind=Kind.EXPENSE,
                         source_id=expense.expensico_id, source_version=expense.version, expense=expense)
    return record_preview(record=probe)


def record_preview(*, record: ExportRecord) -> dict[str, Any]:
    """The entry and the exact vendor payload this record would be sent as, now. Sends nothing
    and changes nothing."""
    connection = record.connection
    try:
        resolution = record_resolve(record=record)
    except NoSourceDocument as exc:
        return {"ok": False, "mapping_version": record.mapping_version, "reason": "no_source_document",
                "detail": str(exc), "context": {}, "entry": None, "payload": None}
    if resolution.entry is None:
        return {"ok": False, "mapping_version": resolution.mapping_version,
                "reason": resolution.review_reason or ("skipped" if resolution.skipped else ""),
                "detail": resolution.detail, "context": resolution.context, "entry": None, "payload": None}
    return {"ok": True, "mapping_version": resolution.mapping_version, "reason": "", "detail": "",
            "context": {}, "entry": entry_to_json(resolution.entry),
            "payload": payload_preview(connection, resolution.entry)}


# Parked for a reason a retry may fix; holds and duplicate conflicts need a person's decision.
RETRYABLE_REASONS = (ReviewItem.Reason.RETRIES_EXHAUSTED, ReviewItem.Reason.REMOTE_ERROR,
                     ReviewItem.Reason.AUTH, ReviewItem.Reason.VALIDATION, ReviewItem.Reason.MAPPING_GAP,
                     ReviewItem.Reason.IMPORT_FAILED)


def _retryable_items(organization_id: int) -> QuerySet[ReviewItem]:
    return ReviewItem.objects.filter(organization_id=organization_id, resolved_at__isnull=True,
                                     reason__in=RETRYABLE_REASONS)


def failed_exports_count(*, organization_id: int) -> int:
    """How many records `retry_failed_exports` would send again (what a confirmation shows)."""
    return (_retryable_items(organization_id).values("record").distinct().count()
            + ExportRecord.objects.filter(organization_id=organization_id, status=Status.RETRY).count())


def retry_failed_exports(*, organization_id: int, by: By = None) -> int:
    """Sends failed records of one organisation again now. Returns how many were re-queued."""
    items = list(_retryable_items(organization_id).select_related("record"))
    count = review_items_retry(items=items, by=by)
    with transaction.atomic():
        waiting = list(ExportRecord.objects.filter(organization_id=organization_id, status=Status.RETRY)
                       .values_list("pk", flat=True))
        ExportRecord.objects.filter(pk__in=waiting, status=Status.RETRY).update(next_attempt_at=timezone.now())
        enqueue_on_commit(waiting)
    return count + len(waiting)


# --- per-record actions ------------------------------------------------------------------------

@transaction.atomic
def record_cancel(*, record: ExportRecord, reason: str = "", by: By = None) -> ExportRecord:
    reason = reason or said("cancelled_by_person")
    if record.status == Status.NEEDS_REVIEW:
        item = record.review_items.filter(resolved_at__isnull=True).first()
        if item:
            review_item_resolve(item=item, resolution=ReviewItem.Resolution.SKIPPED, note=reason, by=by)
            record.refresh_from_db()
            return record
    if record.status not in (Status.PENDING, Status.RETRY, Status.NEEDS_REVIEW):
        raise ExportError(said("not_cancellable", status={"status": record.status}), code="not_cancellable")
    return record_transition(record=record, to=Status.CANCELLED, next_attempt_at=None, last_error=reason, by=by)


@transaction.atomic
def record_retry_now(*, record: ExportRecord, by: By = None) -> ExportRecord:
    if record.status == Status.NEEDS_REVIEW:
        item = record.review_items.filter(resolved_at__isnull=True).first()
        if item:
            review_item_resolve(item=item, resolution=ReviewItem.Resolution.RETRIED, by=by)
        else:
            record_transition(record=record, to=Status.PENDING, next_attempt_at=timezone.now(), attempts=0, by=by,
                              why=said("retry_now"))
            enqueue_on_commit([record.pk])
    elif record.status in (Status.PENDING, Status.RETRY, Status.OUTCOME_UNKNOWN):
        ExportRecord.objects.filter(pk=record.pk, status=record.status).update(
            next_attempt_at=timezone.now(), wait_reason="")
        enqueue_on_commit([record.pk])
    else:
        raise ExportError(said("not_retryable", status={"status": record.status}), code="not_retryable")
    record.refresh_from_db()
    return record


@transaction.atomic
def record_reexport(*, record: ExportRecord, by: By = None) -> ExportRecord:
    """A record a person cancelled goes again, if its source is still the approved latest version."""
    if record.status != Status.CANCELLED:
        raise ExportError(said("not_reexportable", status={"status": record.status}), code="not_reexportable")
    if record.kind == Kind.EXPENSE:
        assert record.expense_id is not None  # an expense record always has its expense
        expense = Expense.objects.get(pk=record.expense_id)
        if expense.status != Expense.Status.APPROVED or expense.version != record.source_version:
            raise ExportError(said("source_changed"), code="source_changed")
    elif record.kind == Kind.REVERSAL:
        raise ExportError(said("reversal_not_reexported"), code="not_reexportable")
    record_transition(record=record, to=Status.PENDING, next_attempt_at=timezone.now(), attempts=0,
                      last_error="", wait_reason="", by=by, why=said("re_exported"))
    enqueue_on_commit([record.pk])
    return record


CALLBACK_TARGETS = (Status.EXPORTED, Status.NEEDS_REVIEW)


@transaction.atomic
def record_apply_callback(*, record: ExportRecord, status: str, external_id: str = "", detail: str = "") -> ExportRecord:
    """A vendor tells us how a document ended: only `exported` or `needs_review`, only along the table."""
    if status not in CALLBACK_TARGETS:
        raise ExportError(f"a callback may set {', '.join(CALLBACK_TARGETS)}, not {status}", code="invalid_status")
    if status == Status.EXPORTED and not external_id:
        raise ExportError("exported needs the vendor's external_id", code="external_id_required")
    record = ExportRecord.objects.select_for_update().get(pk=record.pk)
    if record.status == status and (status != Status.EXPORTED or record.external_id == external_id):
        return record  # a repeated callback changes nothing
    if record.status == Status.EXPORTED:
        # Booked stays booked here: only the import-failure poll may take exported → needs_review.
        raise IllegalTransition(record.status, status)
    if status == Status.EXPORTED:
        record_transition(record=record, to=Status.EXPORTED, external_id=external_id, needs_reconcile=False,
                          next_attempt_at=None)
        record.review_items.filter(resolved_at__isnull=True).update(
            resolution=ReviewItem.Resolution.BOOKED_MANUALLY, manual_external_reference=external_id,
            resolved_at=timezone.now(), resolved_by_label="vendor callback")
    else:
        record_transition(record=record, to=Status.NEEDS_REVIEW, next_attempt_at=None, last_error=detail)
        review_item_open(record=record, reason=ReviewItem.Reason.REMOTE_ERROR, detail=detail or said("vendor_callback"))
    return record
