"""The worker: claim a due record, decide, call out (outside any transaction), record the outcome.

`record_process(record_id=…)` is the unit of work (one claimed record); `records_work_due`
claims a batch with FOR UPDATE SKIP LOCKED and processes it, which is what the reliability
tests and the benchmark drive. Killing a worker anywhere leaves the record `in_progress` with a
lease; the sweeper turns an expired lease into `outcome_unknown`, so the next attempt looks the
document up by reference before it sends anything again. Claiming is in services.claiming, the
outcomes in services.outcomes, the look-up in services.lookup, a reversal's wait for its
original in services.reversals.
"""

from collections.abc import Callable
from contextvars import ContextVar
from datetime import datetime
from typing import Any

from django.db import DatabaseError, transaction
from django.utils import timezone

from connectors import errors
from connectors.base import Connector
from connectors.entry import AccountingEntry

from ..close.periods import locks_shared
from ..errors import StaleRecord
from ..messages import said
from ..models import ExportRecord, Kind, ReviewItem
from ..transitions import Status
from . import claimed, closing, duplicates, gates, outcomes, preflight
from .claiming import record_claim, records_claim_due
from .lookup import reconcile
from .preview import resolve_and_store, store_preview
from .receipts import receipts_complete
from .resolution import snapshots_shared
from .reversals import reversal_precheck, reversed_record
from .status_update import record_transition


def records_work_due(*, limit: int = 50) -> dict[str, int]:
    counts: dict[str, int] = {}
    with snapshots_shared(), locks_shared():
        records = records_claim_due(limit=limit)
        # The claimed records' expenses are read together; records the batch tops up (more due
        # records of the same connection, sent in one vendor call) read theirs as they go.
        with claimed.batch_shared(records):
            for outcome in work_claimed(records).values():
                counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def record_process(*, record_id: int) -> str:
    record = record_claim(record_id=record_id)
    if record is None:
        return "not_claimed"
    return work_claimed([record])[record.pk]


def _one_by_one(records: list[ExportRecord]) -> dict[int, str]:
    return {record.pk: record_work(record=record) for record in records}


# Claimed records are worked through this; services.batch replaces it at app start (exports/apps.py)
# so that records of one connection go out in one vendor call where the connector pushes many.
work_claimed: Callable[[list[ExportRecord]], dict[int, str]] = _one_by_one
# Set by services.batch while it works records together: takes (record, connector, entry, flag)
# in place of the vendor call, True when it will make that call for many records at once.
push_later: ContextVar[Callable[[ExportRecord, Connector, AccountingEntry, Any], bool] | None] = \
    ContextVar("push_later", default=None)


# --- the unit of work --------------------------------------------------------------------------

def record_work(*, record: ExportRecord) -> str:
    """Processes one record this worker holds (status in_progress). Returns the new status."""
    started = timezone.now()
    try:
        return _work(record, started)
    except StaleRecord:
        return "stale"
    except DatabaseError:
        raise  # the lease expires and the sweeper hands the record on as outcome_unknown
    except Exception as exc:  # noqa: BLE001  a bug before sending: park it for a person, nothing went out
        record.refresh_from_db()
        if record.status != Status.IN_PROGRESS:
            raise
        return outcomes.to_review(record, ReviewItem.Reason.REMOTE_ERROR,
                                  said("internal_error", error=f"{type(exc).__name__}: {exc}"), started, error=exc)


def _work(record: ExportRecord, started: datetime) -> str:
    gate = gates.gate_for(record)
    if gate.wait:
        if gate.dry_run:
            store_preview(record)
        return outcomes.wait(record, until=None, reason=gate.reason)
    # The connection as the claim read it (moments ago); the breaker is read again as each
    # request leaves (connectors.http), and an open one there makes the record wait (`outcomes.failure`).
    conn = record.connection
    if not conn.active:
        return outcomes.wait(record, until=None, reason=gates.CONNECTION_INACTIVE)
    if conn.status == conn.Status.PAUSED:
        return outcomes.wait(record, until=None, reason=gates.CONNECTION_PAUSED)
    if conn.breaker_open:
        return outcomes.wait(record, until=conn.paused_until, reason=said("wait_breaker_open"))

    if record.kind == Kind.REVERSAL:
        settled = reversal_precheck(record, started)
        if settled:
            return settled
    connector = claimed.connector_shared(conn)
    if record.needs_reconcile:
        found = reconcile(record, connector, started)
        if found:
            return found
    unsupported = gates.kind_unsupported(record)
    if unsupported:   # visible on the record, never sent, not a failure
        with transaction.atomic():
            record_transition(record=record, to=Status.CANCELLED, last_error=unsupported, next_attempt_at=None,
                              vendor_status=gates.UNSUPPORTED)
        return Status.CANCELLED
    moot = gates.source_moot(record)
    if moot:
        return outcomes.settle(record, moot)
    receipts_complete(record)

    resolution = resolve_and_store(record)
    if resolution.skipped:
        return outcomes.settle(record, (Status.CANCELLED, resolution.skipped))
    if resolution.entry is None:
        return outcomes.to_review(record, resolution.review_reason, resolution.detail, started,
                                  context=resolution.context)
    locked = closing.own_lock_decision(record=record, posting_day=resolution.entry.date)
    if locked:
        if locked.redate_on is None:
            return outcomes.period_closed(record, locked, started)
        # Our own close locked the month: the same document, dated on the next open day.
        ExportRecord.objects.filter(pk=record.pk).update(posting_date=locked.redate_on)
        record.posting_date = locked.redate_on
        resolution = resolve_and_store(record)
    entry = resolution.entry
    assert entry is not None  # re-dating changes the date only
    flag = None
    dupes = duplicates.record_duplicates(record)
    if dupes:
        if duplicates.duplicate_policy(record.organization_id) == duplicates.DuplicatePolicy.HOLD:
            return outcomes.to_review(record, ReviewItem.Reason.POSSIBLE_DUPLICATE, dupes.detail, started,
                                      context=dupes.context)
        flag = (ReviewItem.Reason.POSSIBLE_DUPLICATE, dupes.detail, dupes.context)
    blocked = preflight.record_preflight(record=record, entry=entry)
    if blocked:   # the vendor would refuse it: nothing is sent
        if blocked.period:
            return outcomes.period_closed(record, blocked.period, started)
        return outcomes.to_review(record, ReviewItem.Reason.PREFLIGHT_FAILED, blocked.detail, started,
                                  context=blocked.context)

    later = push_later.get()
    if later is not None and record.kind != Kind.REVERSAL and later(record, connector, entry, flag):
        return "batched"
    call_started = timezone.now()
    try:
        if record.kind == Kind.REVERSAL:
            result = connector.reverse(reversed_record(record).external_id, entry, str(record.idempotency_key))
        else:
            result = connector.push(entry, str(record.idempotency_key))
    except errors.ConnectorError as exc:
        return outcomes.failure(record, exc, call_started)
    except Exception as exc:  # noqa: BLE001  a bug after sending is indistinguishable from a lost reply
        return outcomes.retry(record, errors.OutcomeUnknown(f"{type(exc).__name__}: {exc}"), call_started,
                              unknown=True)
    return outcomes.exported(record, result.external_id, call_started, request_id=result.request_id,
                             warnings=result.warnings, notes=result.notes, flag=flag,
                             document_number=result.document_number, vendor_status=result.status)
