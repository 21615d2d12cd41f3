"""The worker: claim a due record, decide, call out (outside any transaction), record the outcome.

`record_process(record_id=…)` is the unit of work (one claimed record); `records_work_due`
claims a batch with FOR UPDATE SKIP LOCKED and processes it, which is what the reliability
tests and the benchmark drive. Killing a worker anywhere leaves the record `in_progress` with a
lease; the sweeper turns an expired lease into `outcome_unknown`, so the next attempt looks the
document up by reference before it sends anything again.
"""

import os
import socket
import uuid
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db import connection as db_connection
from django.utils import timezone

from connectors import errors
from connectors.base import Connector, RemoteDocument, connector_for
from connectors.entry import AccountingEntry
from connectors.http import CircuitOpen

from ..close.periods import locks_shared
from ..entries import entry_to_json
from ..errors import StaleRecord
from ..messages import said, stored_of
from ..models import ExportAttempt, ExportRecord, Kind, ReviewItem
from ..transitions import CLAIMABLE, Status
from . import claimed, closing, duplicates, gates, preflight
from .backoff import next_delay
from .preview import payload_preview
from .receipts import receipts_complete
from .records import close_open_reviews, enqueue_on_commit
from .resolution import Resolution, record_resolve, snapshots_shared
from .review import review_item_flag, review_item_open, review_item_warn
from .status_update import UNSAVED, attempt_number, record_transition

WORKER = f"{socket.gethostname()}:{os.getpid()}"
Outcome = ExportAttempt.Outcome


def lease_seconds() -> int:
    return getattr(settings, "EXPORTS_LEASE_SECONDS", 300)


def max_attempts() -> int:
    return getattr(settings, "EXPORTS_MAX_ATTEMPTS", 6)


# --- claiming ---------------------------------------------------------------------------------

def record_claim(*, record_id: int) -> ExportRecord | None:
    """Compare-and-set one due record to in_progress; None if it is not due or someone has it."""
    now = timezone.now()
    claimed = ExportRecord.objects.filter(
        pk=record_id, status__in=CLAIMABLE, next_attempt_at__lte=now,
    ).update(status=Status.IN_PROGRESS, leased_until=now + timedelta(seconds=lease_seconds()), updated_at=now)
    if not claimed:
        return None
    return ExportRecord.objects.select_related("connection__organization", "organization").get(pk=record_id)


def records_claim_due(*, limit: int = 50, connection_id: int | None = None) -> list[ExportRecord]:
    """Claims up to `limit` due records (of one connection, if given) atomically; concurrent
    workers get disjoint sets."""
    now = timezone.now()
    lease = now + timedelta(seconds=lease_seconds())
    with transaction.atomic():
        qs = ExportRecord.objects.filter(status__in=CLAIMABLE, next_attempt_at__lte=now).order_by(
            "next_attempt_at", "pk")
        if connection_id is not None:
            qs = qs.filter(connection_id=connection_id)
        if db_connection.vendor == "postgresql":
            ids = _claim_locked(qs.select_for_update(skip_locked=True, of=("self",)), limit=limit, lease=lease,
                                now=now)
        else:
            ids = list(qs.values_list("pk", flat=True)[:limit])
            # The status guard keeps this a compare-and-set where rows cannot be locked (SQLite).
            ExportRecord.objects.filter(pk__in=ids, status__in=CLAIMABLE).update(
                status=Status.IN_PROGRESS, leased_until=lease, updated_at=now)
    return _instances_shared(list(ExportRecord.objects.select_related("connection__organization", "organization")
                                  .filter(pk__in=ids, status=Status.IN_PROGRESS, leased_until=lease)))


def _instances_shared(records: list[ExportRecord]) -> list[ExportRecord]:
    """The claimed records of one connection share one Connection (and organisation) instance, as
    they already share its connector (claimed.connector_shared): its typed settings are parsed
    once per batch instead of once per record, and a breaker state read at send time is seen by
    the batch's next record. Every row was read by the same query, so the copies were equal."""
    connections: dict[int, Any] = {}
    organizations: dict[int, Any] = {}
    for record in records:
        conn = connections.setdefault(record.connection_id, record.connection)
        organizations.setdefault(conn.organization_id, conn.organization)
        conn.organization = organizations[conn.organization_id]
        record.connection = conn
        if record.organization_id in organizations:
            record.organization = organizations[record.organization_id]
    return records


def _claim_locked(due: Any, *, limit: int, lease: datetime, now: datetime) -> list[int]:
    """PostgreSQL: lock up to `limit` due rows (SKIP LOCKED: rows another worker holds are not
    waited for) and set them in_progress in one statement, the locking SELECT as the UPDATE's
    subquery; the ids claimed. The status guard is re-checked on the rows the subquery locked."""
    sub_sql, sub_params = due.values("pk")[:limit].query.get_compiler(using=db_connection.alias).as_sql()
    table = db_connection.ops.quote_name(ExportRecord._meta.db_table)
    claimable = [str(status) for status in CLAIMABLE]
    with db_connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE {table} SET "status" = %s, "leased_until" = %s, "updated_at" = %s '
            f'WHERE "id" IN ({sub_sql}) AND "status" IN ({", ".join(["%s"] * len(claimable))}) RETURNING "id"',
            [str(Status.IN_PROGRESS), lease, now, *sub_params, *claimable])
        return [row[0] for row in cursor.fetchall()]


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


# --- outcomes ----------------------------------------------------------------------------------

def _attempt(record: ExportRecord, outcome: str, started: datetime, *, error: Exception | None = None,
             external_id: str = "", request_id: str = "", reconcile: bool = False, warnings: Iterable[str] = (),
             notes: Iterable[str] = ()) -> ExportAttempt:
    """The attempt row, unsaved: `record_transition(attempt=…)` inserts it with the status change
    (one statement on PostgreSQL), numbered inside its INSERT."""
    finished = timezone.now()
    return ExportAttempt(
        record=record, started_at=started, finished_at=finished,
        outcome=outcome, error_class=type(error).__name__ if error else "",
        error_code=str(getattr(error, "code", "") or getattr(error, "status", "") or "") if error else "",
        error_message=(str(getattr(error, "message", "") or error) if error else ("reconciled" if reconcile else ""))[:2000],
        request_id=(getattr(error, "request_id", "") if error else request_id) or "", external_id=external_id,
        duration_ms=int((finished - started).total_seconds() * 1000), worker=WORKER,
        warnings=list(warnings), notes=list(notes))


def _exported(record: ExportRecord, external_id: str, started: datetime, *, outcome: str = Outcome.EXPORTED,
              request_id: str = "", counted: bool = True, warnings: Iterable[str] = (), notes: Iterable[str] = (),
              flag: tuple[str, str, dict[str, Any]] | None = None, document_number: str = "",
              vendor_status: str = "") -> str:
    """Booked. Vendor warnings open a review item on the record, which stays exported; notes
    (informational, e.g. "already reversed") are only kept on the attempt. `flag` (reason, detail,
    context): booked anyway, a person should look (one open item per record: a warning wins)."""
    with transaction.atomic():
        record_transition(record=record, to=Status.EXPORTED, external_id=external_id, needs_reconcile=False,
                          next_attempt_at=None, last_error="", warnings=list(warnings),
                          attempts=record.attempts + (1 if counted else 0),
                          **({"vendor_document_number": document_number} if document_number else {}),
                          **({"vendor_status": vendor_status} if vendor_status else {}),
                          attempt=_attempt(record, outcome, started, external_id=external_id, request_id=request_id,
                                           reconcile=outcome == Outcome.RECONCILED, warnings=warnings, notes=notes))
        if warnings:
            review_item_warn(record=record, warnings=list(warnings))
        elif flag:
            review_item_flag(record=record, reason=flag[0], detail=flag[1], context=flag[2])
    return Status.EXPORTED


def _to_review(record: ExportRecord, reason: str, detail: str, started: datetime, *, error: Exception | None = None,
               context: dict[str, Any] | None = None, counted: bool = False) -> str:
    severity = ReviewItem.Severity.HIGH if reason in (ReviewItem.Reason.AUTH, ReviewItem.Reason.DUPLICATE_CONFLICT) \
        else ReviewItem.Severity.MEDIUM
    with transaction.atomic():
        record_transition(record=record, to=Status.NEEDS_REVIEW, next_attempt_at=None, last_error=detail,
                          attempts=record.attempts + (1 if counted else 0),
                          attempt=_attempt(record, Outcome.NEEDS_REVIEW, started, error=error))
        review_item_open(record=record, reason=reason, detail=detail, severity=severity, context=context or {})
    return Status.NEEDS_REVIEW


def _wait(record: ExportRecord, *, until: datetime | None, reason: str, started: datetime | None = None,
          error: Exception | None = None, outcome: str = Outcome.RATE_LIMITED) -> str:
    """Back to waiting without spending an attempt: rate limits and open breakers never fail a record."""
    to = Status.RETRY if until else Status.PENDING
    with transaction.atomic():
        record_transition(record=record, to=to, next_attempt_at=until, wait_reason=reason,
                          attempt=_attempt(record, outcome, started, error=error) if started else None)
    return to


def _retry(record: ExportRecord, error: Exception, started: datetime, *, unknown: bool = False) -> str:
    attempts = record.attempts + 1
    if attempts >= max_attempts():
        return _to_review(record, ReviewItem.Reason.RETRIES_EXHAUSTED,
                          said("retries_exhausted", attempts=attempts, vendor=str(error)), started, error=error,
                          counted=True)
    delay = next_delay(attempts, retry_after=getattr(error, "retry_after", None))
    to = Status.OUTCOME_UNKNOWN if unknown else Status.RETRY
    with transaction.atomic():
        record_transition(record=record, to=to, attempts=attempts, needs_reconcile=unknown or record.needs_reconcile,
                          next_attempt_at=timezone.now() + timedelta(seconds=delay),
                          last_error=str(error)[:2000],
                          attempt=_attempt(record, Outcome.OUTCOME_UNKNOWN if unknown else Outcome.RETRY, started,
                                           error=error))
    return to


def _failure(record: ExportRecord, exc: errors.ConnectorError, started: datetime) -> str:
    """Dispatches on the error taxonomy, never on strings."""
    if isinstance(exc, CircuitOpen):   # nothing was sent: wait, as an open breaker before the call does
        return _wait(record, until=timezone.now() + timedelta(seconds=exc.retry_after),
                     reason="connection breaker open")
    if isinstance(exc, errors.RateLimited):
        delay = next_delay(1, retry_after=exc.retry_after)
        return _wait(record, until=timezone.now() + timedelta(seconds=delay), reason="rate limited",
                     started=started, error=exc)
    if isinstance(exc, errors.Transient):
        return _retry(record, exc, started)
    if isinstance(exc, errors.OutcomeUnknown):
        return _retry(record, exc, started, unknown=True)
    if isinstance(exc, errors.AuthExpired):
        return _to_review(record, ReviewItem.Reason.AUTH, str(exc) or said("credentials_rejected"), started,
                          error=exc, counted=True)
    if isinstance(exc, errors.PeriodClosed):
        return _period_closed(record, closing.vendor_refusal_decision(record=record, exc=exc), started, error=exc)
    if isinstance(exc, errors.Permanent):
        reason = ReviewItem.Reason.DUPLICATE_CONFLICT if exc.code in ("duplicate", "conflict") \
            else ReviewItem.Reason.VALIDATION
        return _to_review(record, reason, exc.message or str(exc), started, error=exc, counted=True,
                          context={"code": exc.code, "field": exc.field or ""})
    return _to_review(record, ReviewItem.Reason.REMOTE_ERROR, str(exc), started, error=exc, counted=True)


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
        return _to_review(record, ReviewItem.Reason.REMOTE_ERROR,
                          said("internal_error", error=f"{type(exc).__name__}: {exc}"), started, error=exc)


def _work(record: ExportRecord, started: datetime) -> str:
    gate = gates.gate_for(record)
    if gate.wait:
        if gate.dry_run:
            _store_preview(record)
        return _wait(record, until=None, reason=gate.reason)
    # The connection as the claim read it (moments ago); the breaker is read again as each
    # request leaves (connectors.http), and an open one there makes the record wait (`_failure`).
    conn = record.connection
    if not conn.active:
        return _wait(record, until=None, reason=gates.CONNECTION_INACTIVE)
    if conn.status == conn.Status.PAUSED:
        return _wait(record, until=None, reason=gates.CONNECTION_PAUSED)
    if conn.breaker_open:
        return _wait(record, until=conn.paused_until, reason="connection breaker open")

    if record.kind == Kind.REVERSAL:
        settled = _reversal_precheck(record, started)
        if settled:
            return settled
    connector = claimed.connector_shared(conn)
    if record.needs_reconcile:
        found = _reconcile(record, connector, started)
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
        return _wait_free_transition(record, moot)
    receipts_complete(record)

    resolution = _resolve_and_store(record)
    if resolution.skipped:
        return _wait_free_transition(record, (Status.CANCELLED, resolution.skipped))
    if resolution.entry is None:
        return _to_review(record, resolution.review_reason, resolution.detail, started, context=resolution.context)
    locked = closing.own_lock_decision(record=record, posting_day=resolution.entry.date)
    if locked:
        if locked.redate_on is None:
            return _period_closed(record, locked, started)
        # Our own close locked the month: the same document, dated on the next open day.
        ExportRecord.objects.filter(pk=record.pk).update(posting_date=locked.redate_on)
        record.posting_date = locked.redate_on
        resolution = _resolve_and_store(record)
    entry = resolution.entry
    assert entry is not None  # re-dating changes the date only
    flag = None
    dupes = duplicates.record_duplicates(record)
    if dupes:
        if duplicates.duplicate_policy(record.organization_id) == duplicates.DuplicatePolicy.HOLD:
            return _to_review(record, ReviewItem.Reason.POSSIBLE_DUPLICATE, dupes.detail, started,
                              context=dupes.context)
        flag = (ReviewItem.Reason.POSSIBLE_DUPLICATE, dupes.detail, dupes.context)
    blocked = preflight.record_preflight(record=record, entry=entry)
    if blocked:   # the vendor would refuse it: nothing is sent
        if blocked.period:
            return _period_closed(record, blocked.period, started)
        return _to_review(record, ReviewItem.Reason.PREFLIGHT_FAILED, blocked.detail, started, context=blocked.context)

    later = push_later.get()
    if later is not None and record.kind != Kind.REVERSAL and later(record, connector, entry, flag):
        return "batched"
    call_started = timezone.now()
    try:
        if record.kind == Kind.REVERSAL:
            result = connector.reverse(_reversed(record).external_id, entry, str(record.idempotency_key))
        else:
            result = connector.push(entry, str(record.idempotency_key))
    except errors.ConnectorError as exc:
        return _failure(record, exc, call_started)
    except Exception as exc:  # noqa: BLE001  a bug after sending is indistinguishable from a lost reply
        return _retry(record, errors.OutcomeUnknown(f"{type(exc).__name__}: {exc}"), call_started, unknown=True)
    return _exported(record, result.external_id, call_started, request_id=result.request_id,
                     warnings=result.warnings, notes=result.notes, flag=flag,
                     document_number=result.document_number, vendor_status=result.status)


def _period_closed(record: ExportRecord, decision: closing.PeriodDecision, started: datetime, *,
                   error: Exception | None = None) -> str:
    """Hold for review, or send again dated on the next open day under a new idempotency key
    (a refusal booked nothing; see services.closing). Re-dating spends an attempt, so a vendor
    that keeps refusing ends in review like any other."""
    if decision.redate_on is None:
        return _to_review(record, ReviewItem.Reason.PERIOD_CLOSED, decision.detail, started, error=error,
                          context=decision.context, counted=error is not None)
    attempts = record.attempts + 1
    if attempts >= max_attempts():
        return _to_review(record, ReviewItem.Reason.PERIOD_CLOSED,
                          said("redate_refused", date=decision.redate_on), started, error=error,
                          context=decision.context, counted=True)
    note = said("redated", date=decision.redate_on.isoformat())
    why = [] if error is not None else [str(decision.context.get("message", ""))]  # pre-flight's words
    with transaction.atomic():
        record_transition(record=record, to=Status.RETRY, attempts=attempts, posting_date=decision.redate_on,
                          idempotency_key=uuid.uuid4(), next_attempt_at=timezone.now(), last_error=note,
                          attempt=_attempt(record, Outcome.REDATED, started, error=error,
                                           notes=[str(note), *filter(None, why)]))
        enqueue_on_commit([record.pk])
    return Status.RETRY


def _resolve_and_store(record: ExportRecord) -> Resolution:
    resolution = record_resolve(record=record)
    fields: dict[str, Any] = {"mapping_version": resolution.mapping_version}
    if resolution.entry is not None:
        fields["entry_preview"] = entry_to_json(resolution.entry)
        # The payload as the connector builds it, kept for every record (not only dry runs).
        fields["payload_preview"] = payload_preview(record.connection, resolution.entry)
    # Written with the record's next transition (status_update.UNSAVED), whatever it is: every
    # path from here ends in one. A worker that dies first leaves it unwritten, and the record is
    # resolved again (or, found at the vendor, in `_reconcile`) before it settles.
    record.__dict__[UNSAVED] = fields
    for name, value in fields.items():
        setattr(record, name, value)
    return resolution


def _wait_free_transition(record: ExportRecord, moot: tuple[str, str]) -> str:
    to, why = moot
    with transaction.atomic():
        record_transition(record=record, to=to, last_error=why, next_attempt_at=None)
    return to


def _reconcile(record: ExportRecord, connector: Connector, started: datetime, *,
               found: dict[str, RemoteDocument] | None = None) -> str | None:
    """Outcome unknown: ask the vendor by reference before anything is re-sent (`found`: the
    answer of a look-up already made for many records, services.batch)."""
    refs = [record.reference]
    if record.kind == Kind.REVERSAL:
        refs.append(_reversed(record).reference)
    try:
        found = connector.find_by_reference(refs) if found is None else found
    except errors.ConnectorError as exc:
        return _failure(record, exc, started)
    if record.kind == Kind.REVERSAL:
        original = found.get(_reversed(record).reference)
        mine = found.get(record.reference)
        if mine is not None or original is None or not original.live:
            external = mine.external_id if mine else _reversed(record).external_id
            return _exported(record, external, started, outcome=Outcome.RECONCILED, counted=False)
        return None
    doc = found.get(record.reference)
    if doc is not None and doc.live:
        if not record.entry_preview:
            # Sent by a worker that died before writing down what it sent: keep the entry (a
            # reversal mirrors it), built as that worker built it.
            try:
                _resolve_and_store(record)
            except Exception:  # noqa: BLE001  the booking stands; a missing preview only shows in review
                record.__dict__.pop(UNSAVED, None)
        return _exported(record, doc.external_id, started, outcome=Outcome.RECONCILED, counted=False)
    ExportRecord.objects.filter(pk=record.pk).update(needs_reconcile=False)
    record.needs_reconcile = False
    return None


def _reversed(record: ExportRecord) -> ExportRecord:
    """The record a reversal undoes (a reversal record always names one)."""
    assert record.reverses is not None
    return record.reverses


def _reversal_precheck(record: ExportRecord, started: datetime) -> str | None:
    """A reversal waits for its original to settle, and is moot if the original never went out."""
    assert record.reverses_id is not None  # a reversal record always names one
    original = ExportRecord.objects.get(pk=record.reverses_id)
    record.reverses = original
    if original.status == Status.EXPORTED:
        return None
    if original.needs_reconcile and original.status in (Status.PENDING, Status.RETRY):
        # It may be at the vendor: wait until the worker has looked it up.
        return _wait(record, until=timezone.now() + timedelta(seconds=30), reason="waiting for the original")
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
            return _wait(record, until=timezone.now() + timedelta(seconds=5), reason="original moving")
        original.refresh_from_db()
    if original.status in (Status.CANCELLED, Status.SUPERSEDED):
        return _wait_free_transition(record, (Status.CANCELLED, said("nothing_to_reverse")))
    # in progress or outcome unknown: come back once the original has an answer.
    return _wait(record, until=timezone.now() + timedelta(seconds=30), reason="waiting for the original")


def _original_look_up(record: ExportRecord, original: ExportRecord, started: datetime) -> str | None:
    """The vendor holds the parked original: it was booked (exported, its review closed, and the
    reversal goes on). It does not: it was never booked (the caller cancels it)."""
    try:
        doc = connector_for(record.connection).find_by_reference([original.reference]).get(original.reference)
    except errors.ConnectorError as exc:
        return _failure(record, exc, started)
    with transaction.atomic():
        if doc is not None and doc.live:
            record_transition(record=original, to=Status.EXPORTED, expected=Status.NEEDS_REVIEW,
                              external_id=doc.external_id, needs_reconcile=False, next_attempt_at=None, last_error="",
                              attempt=_attempt(original, Outcome.RECONCILED, started, external_id=doc.external_id,
                                               reconcile=True))
            close_open_reviews(original, ReviewItem.Resolution.SKIPPED,
                               "found at the vendor while reversing it: source cancelled or replaced")
        else:
            ExportRecord.objects.filter(pk=original.pk).update(needs_reconcile=False)
    return None


def _store_preview(record: ExportRecord) -> None:
    """Dry run: build the entry and the vendor payload, keep them, send nothing."""
    try:
        resolution = record_resolve(record=record)
    except Exception as exc:  # noqa: BLE001  a preview must never break the dry run loop
        failed = said("preview_failed", error=exc)
        ExportRecord.objects.filter(pk=record.pk).update(last_error=failed[:2000],
                                                         last_error_message=failed.stored())
        return
    error = resolution.detail if resolution.entry is None else ""
    fields: dict[str, Any] = {"mapping_version": resolution.mapping_version, "last_error": str(error),
                              "last_error_message": stored_of(error)}
    if resolution.entry is not None:
        fields["entry_preview"] = entry_to_json(resolution.entry)
        fields["payload_preview"] = payload_preview(record.connection, resolution.entry)
    ExportRecord.objects.filter(pk=record.pk).update(**fields)
    ExportAttempt.objects.create(record=record, number=attempt_number(record.pk),
                                 started_at=timezone.now(), finished_at=timezone.now(), outcome=Outcome.DRY_RUN,
                                 worker=WORKER)
