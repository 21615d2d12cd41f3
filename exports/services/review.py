"""The review queue: open (from the worker), assign, resolve, retry."""

from django.db import transaction
from django.utils import timezone

from ..models import ExportRecord, ReviewItem
from ..transitions import Status
from .records import enqueue_on_commit
from .transition import record_transition


class ReviewError(Exception):
    pass


def review_item_open(*, record: ExportRecord, reason: str, detail: str = "", severity: str = ReviewItem.Severity.MEDIUM,
                     context: dict | None = None) -> ReviewItem:
    """Call inside the transaction that moves the record to needs_review."""
    existing = ReviewItem.objects.filter(record=record, resolved_at__isnull=True).first()
    if existing:
        ReviewItem.objects.filter(pk=existing.pk).update(reason=reason, detail=detail, context=context or {})
        existing.refresh_from_db()
        return existing
    return ReviewItem.objects.create(
        organization_id=record.organization_id, record=record, reason=reason, severity=severity,
        detail=detail, context=context or {}, sla_due_at=timezone.now() + ReviewItem.SLA[severity])


def _label(user) -> str:
    return str(getattr(user, "username", "") or user or "system")


def _user_or_none(user):
    return user if getattr(user, "pk", None) and hasattr(user, "is_staff") else None


@transaction.atomic
def review_item_assign(*, item: ReviewItem, owner) -> ReviewItem:
    item.owner = owner
    item.save(update_fields=["owner"])
    return item


@transaction.atomic
def review_item_resolve(*, item: ReviewItem, resolution: str, by=None, note: str = "",
                        external_reference: str = "") -> ReviewItem:
    """retried/fixed_mapping → the record goes back to pending; booked_manually → exported with
    the reference a person booked it under; skipped → cancelled (a reason is required)."""
    item = ReviewItem.objects.select_for_update().get(pk=item.pk)
    if not item.is_open:
        raise ReviewError("this review item is already resolved")
    record = item.record
    R = ReviewItem.Resolution
    if resolution in (R.RETRIED, R.FIXED_MAPPING):
        record_transition(record=record, to=Status.PENDING, expected=Status.NEEDS_REVIEW,
                          next_attempt_at=timezone.now(), attempts=0, wait_reason="", last_error="")
        enqueue_on_commit([record.pk])
    elif resolution == R.BOOKED_MANUALLY:
        if not external_reference:
            raise ReviewError("booking manually needs the external reference it was booked under")
        record_transition(record=record, to=Status.EXPORTED, expected=Status.NEEDS_REVIEW,
                          external_id=external_reference, next_attempt_at=None)
    elif resolution == R.SKIPPED:
        if not note.strip():
            raise ReviewError("skipping needs a reason")
        record_transition(record=record, to=Status.CANCELLED, expected=Status.NEEDS_REVIEW,
                          next_attempt_at=None, last_error=f"skipped: {note}")
    else:
        raise ReviewError(f"unknown resolution {resolution!r}")
    item.resolution = resolution
    item.resolution_note = note
    item.manual_external_reference = external_reference
    item.resolved_at = timezone.now()
    item.resolved_by = _user_or_none(by)
    item.resolved_by_label = _label(by)
    item.save()
    return item


def review_items_retry(*, items, by=None) -> int:
    """Bulk retry after a fix; items already resolved are left alone."""
    done = 0
    for item in items:
        if item.is_open:
            review_item_resolve(item=item, resolution=ReviewItem.Resolution.RETRIED, by=by)
            done += 1
    return done


@transaction.atomic
def review_items_requeue_mapping_gaps(*, connection, by_label: str = "mapping fixed") -> int:
    """After a mapping change: records parked on a mapping gap for this connection go again."""
    items = ReviewItem.objects.select_for_update().filter(
        record__connection=connection, reason=ReviewItem.Reason.MAPPING_GAP, resolved_at__isnull=True)
    count = 0
    for item in items:
        review_item_resolve(item=item, resolution=ReviewItem.Resolution.FIXED_MAPPING, by=None, note=by_label)
        count += 1
    return count
