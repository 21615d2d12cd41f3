"""A reversal record waits for its original to settle, and is moot if the original never went out."""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from connectors import errors
from connectors.base import connector_for

from ..errors import StaleRecord
from ..messages import said
from ..models import ExportRecord, ReviewItem
from ..transitions import Status
from . import outcomes
from .records import close_open_reviews
from .status_update import record_transition


def reversed_record(record: ExportRecord) -> ExportRecord:
    """The record a reversal undoes (a reversal record always names one)."""
    assert record.reverses is not None
    return record.reverses


def reversal_precheck(record: ExportRecord, started: datetime) -> str | None:
    """The reversal's new status while its original is unsettled or never went out; None when
    the original is exported and the reversal goes on."""
    assert record.reverses_id is not None  # a reversal record always names one
    original = ExportRecord.objects.get(pk=record.reverses_id)
    record.reverses = original
    if original.status == Status.EXPORTED:
        return None
    if original.needs_reconcile and original.status in (Status.PENDING, Status.RETRY):
        # It may be at the vendor: wait until the worker has looked it up.
        return outcomes.wait(record, until=timezone.now() + timedelta(seconds=30), reason=said("wait_original"))
    if original.needs_reconcile and original.status == Status.NEEDS_REVIEW:
        # Parked for a person while it may be at the vendor: nobody else will look it up now.
        failed = _original_look_up(record, original, started)
        if failed:
            return failed
        original.refresh_from_db()
        if original.status == Status.EXPORTED:
            return None
    if original.status in (Status.PENDING, Status.RETRY, Status.NEEDS_REVIEW):
        try:
            with transaction.atomic():
                record_transition(record=original, to=Status.CANCELLED, next_attempt_at=None,
                                  last_error=said("reversed_before_export"))
                close_open_reviews(original, ReviewItem.Resolution.SKIPPED, "source cancelled or replaced")
        except StaleRecord:
            return outcomes.wait(record, until=timezone.now() + timedelta(seconds=5), reason=said("wait_original_moving"))
        original.refresh_from_db()
    if original.status in (Status.CANCELLED, Status.SUPERSEDED):
        return outcomes.settle(record, (Status.CANCELLED, said("nothing_to_reverse")))
    # in progress or outcome unknown: come back once the original has an answer.
    return outcomes.wait(record, until=timezone.now() + timedelta(seconds=30), reason=said("wait_original"))


def _original_look_up(record: ExportRecord, original: ExportRecord, started: datetime) -> str | None:
    """The vendor holds the parked original: it was booked (exported, its review closed, and the
    reversal goes on). It does not: it was never booked (the caller cancels it)."""
    try:
        doc = connector_for(record.connection).find_by_reference([original.reference]).get(original.reference)
    except errors.ConnectorError as exc:
        return outcomes.failure(record, exc, started)
    with transaction.atomic():
        if doc is not None and doc.live:
            record_transition(record=original, to=Status.EXPORTED, expected=Status.NEEDS_REVIEW,
                              external_id=doc.external_id, needs_reconcile=False, next_attempt_at=None, last_error="",
                              attempt=outcomes.attempt_row(original, outcomes.Outcome.RECONCILED, started,
                                                           external_id=doc.external_id, reconcile=True))
            close_open_reviews(original, ReviewItem.Resolution.SKIPPED,
                               "found at the vendor while reversing it: source cancelled or replaced")
        else:
            ExportRecord.objects.filter(pk=original.pk).update(needs_reconcile=False)
    return None
