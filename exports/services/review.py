"""The review queue: open (from the worker), assign, resolve, retry.

Two kinds of item: a parked record (status needs_review) that a person retries, fixes, books
manually or skips; and a vendor warning on a booked record (status stays exported), which a
person only acknowledges."""

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from connectors.models import Connection

from ..errors import IllegalTransition, ReviewError, StaleRecord
from ..messages import said, stored_of
from ..models import ExportRecord, ReviewItem
from ..transitions import Status
from .records import enqueue_on_commit
from .status_update import record_transition


def review_item_open(*, record: ExportRecord, reason: str, detail: str = "", severity: str = ReviewItem.Severity.MEDIUM,
                     context: dict[str, Any] | None = None) -> ReviewItem:
    """Call inside the transaction that moves the record to needs_review."""
    message, detail = stored_of(detail), str(detail)
    existing = ReviewItem.objects.filter(record=record, resolved_at__isnull=True).first()
    if existing:
        # One open item per record: the newest reason wins, with its severity and the earlier deadline.
        sla = min(existing.sla_due_at, existing.created_at + ReviewItem.SLA[ReviewItem.Severity(severity)])
        ReviewItem.objects.filter(pk=existing.pk).update(reason=reason, detail=detail, detail_message=message,
                                                         context=context or {}, severity=severity, sla_due_at=sla)
        existing.refresh_from_db()
        return existing
    return ReviewItem.objects.create(
        organization_id=record.organization_id, record=record, reason=reason, severity=severity,
        detail=detail, detail_message=message, context=context or {},
        sla_due_at=timezone.now() + ReviewItem.SLA[ReviewItem.Severity(severity)])


def review_item_warn(*, record: ExportRecord, warnings: list[str]) -> ReviewItem:
    """A booked record the vendor warned about. Call inside the transaction that exports it."""
    return review_item_open(record=record, reason=ReviewItem.Reason.VENDOR_WARNING, detail="; ".join(warnings),
                            severity=ReviewItem.Severity.LOW, context={"warnings": list(warnings)})


def review_item_flag(*, record: ExportRecord, reason: str, detail: str, context: dict[str, Any]) -> ReviewItem:
    """A booked record a person should look at (e.g. a possible duplicate under export-and-flag):
    acknowledged like a vendor warning. Call inside the transaction that exports it."""
    return review_item_open(record=record, reason=reason, detail=detail, severity=ReviewItem.Severity.LOW,
                            context={**context, "flag_only": True})


# `by`: who acted: a user, an organisation API key, a label (an automatic step's name), or None
# (the system). Only a signed-in user is kept as `resolved_by`; every one of them gives the label.
By = object


def _label(user: By) -> str:
    return str(getattr(user, "username", "") or user or "system")


def _why(resolution: str, note: str, *more: str) -> str:
    """"review resolved: <resolution>; <note>; <more>", as a message (the note stays as written)."""
    parts = [p for p in (note if stored_of(note) else note.strip(), *more) if p]
    how = said(f"resolution_{ReviewItem.Resolution(resolution).value}")
    return said("review_resolved_more", resolution=how, more=parts) if parts else said("review_resolved", resolution=how)


def _user_or_none(user: By) -> User | None:
    return user if isinstance(user, User) and user.pk else None


@transaction.atomic
def review_item_assign(*, item: ReviewItem, owner: User | None) -> ReviewItem:
    item.owner = owner
    item.save(update_fields=["owner"])
    return item


@transaction.atomic
def review_item_resolve(*, item: ReviewItem, resolution: str, by: By = None, note: str = "",
                        external_reference: str = "") -> ReviewItem:
    """retried/fixed_mapping → the record goes back to pending; booked_manually → exported with
    the reference a person booked it under; skipped → cancelled (a reason is required);
    acknowledged (vendor warnings only) → the record stays as it is."""
    item = ReviewItem.objects.select_for_update().get(pk=item.pk)
    if not item.is_open:
        raise ReviewError(said("already_resolved"))
    record = item.record
    R = ReviewItem.Resolution
    _check_kind(item, record, resolution)
    if resolution == R.ACKNOWLEDGED:
        pass
    elif resolution in (R.RETRIED, R.FIXED_MAPPING):
        record_transition(record=record, to=Status.PENDING, expected=Status.NEEDS_REVIEW,
                          next_attempt_at=timezone.now(), attempts=0, wait_reason="", last_error="",
                          by=by, why=_why(resolution, note))
        enqueue_on_commit([record.pk])
    elif resolution == R.BOOKED_MANUALLY:
        if not external_reference:
            raise ReviewError(said("booked_needs_reference"))
        record_transition(record=record, to=Status.EXPORTED, expected=Status.NEEDS_REVIEW,
                          external_id=external_reference, next_attempt_at=None, last_error="",
                          by=by, why=_why(resolution, note, said("booked_as", reference=external_reference)))
    elif resolution == R.SKIPPED:
        if not note.strip():
            raise ReviewError(said("skip_needs_reason"))
        record_transition(record=record, to=Status.CANCELLED, expected=Status.NEEDS_REVIEW,
                          next_attempt_at=None, last_error=said("skipped", note=note), by=by,
                          why=_why(resolution, note))
    else:
        raise ReviewError(said("unknown_resolution", resolution=repr(resolution)))
    item.resolution = resolution
    item.resolution_note = str(note)
    item.manual_external_reference = external_reference
    item.resolved_at = timezone.now()
    item.resolved_by = _user_or_none(by)
    item.resolved_by_label = _label(by)
    item.save()
    return item


def _check_kind(item: ReviewItem, record: ExportRecord, resolution: str) -> None:
    if resolution == ReviewItem.Resolution.ACKNOWLEDGED:
        if not item.is_warning or record.status == Status.NEEDS_REVIEW:
            raise ReviewError(said("not_a_warning", status={"status": record.status}), code="not_a_warning")
    elif item.is_warning:
        how = said(f"resolution_{resolution}") if resolution in ReviewItem.Resolution.values else resolution
        raise ReviewError(said("not_parked", status={"status": record.status}, resolution=how), code="not_parked")


def review_items_retry(*, items: Iterable[ReviewItem], by: By = None) -> int:
    """Bulk retry after a fix; resolved items and vendor warnings (acknowledged, never retried)
    are left alone, and so is an item someone else moved meanwhile."""
    done = 0
    for item in items:
        if item.is_open and not item.is_warning:
            try:
                review_item_resolve(item=item, resolution=ReviewItem.Resolution.RETRIED, by=by)
            except (ReviewError, IllegalTransition, StaleRecord):
                continue
            done += 1
    return done


def review_items_acknowledge(*, items: Iterable[ReviewItem], by: By = None, note: str = "") -> int:
    """Bulk acknowledge; only open vendor warnings are touched."""
    done = 0
    for item in items:
        if item.is_open and item.is_warning:
            try:
                review_item_resolve(item=item, resolution=ReviewItem.Resolution.ACKNOWLEDGED, by=by, note=note)
            except ReviewError:
                continue
            done += 1
    return done


@transaction.atomic
def review_items_requeue_mapping_gaps(*, connection: Connection, by_label: str = "mapping fixed") -> int:
    """After a mapping change: records parked on a mapping gap (or waiting on a suggested account, which
    a new mapping or rule may now decide) for this connection go again."""
    items = ReviewItem.objects.select_for_update().filter(
        record__connection=connection, reason__in=(ReviewItem.Reason.MAPPING_GAP, ReviewItem.Reason.SUGGESTED_CODING,
                                                   ReviewItem.Reason.PREFLIGHT_FAILED),
        resolved_at__isnull=True)
    count = 0
    for item in items:
        review_item_resolve(item=item, resolution=ReviewItem.Resolution.FIXED_MAPPING, by=None, note=by_label)
        count += 1
    return count
