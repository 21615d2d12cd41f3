"""How a worked record settles: each outcome is one transition with its attempt row.

`failure` dispatches a connector error on the taxonomy (never on strings) to the others:
booked (`exported`), back to waiting without spending an attempt (`wait`), another attempt
later (`retry`, outcome unknown included), a person's turn (`to_review`), or a closed period
(`period_closed`: hold, or send again dated on the next open day).
"""

import os
import socket
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from connectors import errors
from connectors.breaker import CircuitOpen

from ..messages import said
from ..models import ExportAttempt, ExportRecord, ReviewItem
from ..transitions import Status
from . import closing
from .backoff import next_delay
from .records import enqueue_on_commit
from .review import review_item_flag, review_item_open, review_item_warn
from .status_update import record_transition

WORKER = f"{socket.gethostname()}:{os.getpid()}"
Outcome = ExportAttempt.Outcome


def max_attempts() -> int:
    return getattr(settings, "EXPORTS_MAX_ATTEMPTS", 6)


def attempt_row(record: ExportRecord, outcome: str, started: datetime, *, error: Exception | None = None,
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


def exported(record: ExportRecord, external_id: str, started: datetime, *, outcome: str = Outcome.EXPORTED,
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
                          attempt=attempt_row(record, outcome, started, external_id=external_id,
                                              request_id=request_id, reconcile=outcome == Outcome.RECONCILED,
                                              warnings=warnings, notes=notes))
        if warnings:
            review_item_warn(record=record, warnings=list(warnings))
        elif flag:
            review_item_flag(record=record, reason=flag[0], detail=flag[1], context=flag[2])
    return Status.EXPORTED


def to_review(record: ExportRecord, reason: str, detail: str, started: datetime, *, error: Exception | None = None,
              context: dict[str, Any] | None = None, counted: bool = False) -> str:
    severity = ReviewItem.Severity.HIGH if reason in (ReviewItem.Reason.AUTH, ReviewItem.Reason.DUPLICATE_CONFLICT) \
        else ReviewItem.Severity.MEDIUM
    with transaction.atomic():
        record_transition(record=record, to=Status.NEEDS_REVIEW, next_attempt_at=None, last_error=detail,
                          attempts=record.attempts + (1 if counted else 0),
                          attempt=attempt_row(record, Outcome.NEEDS_REVIEW, started, error=error))
        review_item_open(record=record, reason=reason, detail=detail, severity=severity, context=context or {})
    return Status.NEEDS_REVIEW


def wait(record: ExportRecord, *, until: datetime | None, reason: str, started: datetime | None = None,
         error: Exception | None = None, outcome: str = Outcome.RATE_LIMITED) -> str:
    """Back to waiting without spending an attempt: rate limits and open breakers never fail a record."""
    to = Status.RETRY if until else Status.PENDING
    with transaction.atomic():
        record_transition(record=record, to=to, next_attempt_at=until, wait_reason=str(reason), why=reason,
                          attempt=attempt_row(record, outcome, started, error=error) if started else None)
    return to


def settle(record: ExportRecord, moot: tuple[str, str]) -> str:
    """To `moot`'s (status, why) with no attempt row: nothing was tried."""
    to, why = moot
    with transaction.atomic():
        record_transition(record=record, to=to, last_error=why, next_attempt_at=None)
    return to


def retry(record: ExportRecord, error: Exception, started: datetime, *, unknown: bool = False) -> str:
    attempts = record.attempts + 1
    if attempts >= max_attempts():
        return to_review(record, ReviewItem.Reason.RETRIES_EXHAUSTED,
                         said("retries_exhausted", attempts=attempts, vendor=str(error)), started, error=error,
                         counted=True)
    delay = next_delay(attempts, retry_after=getattr(error, "retry_after", None))
    to = Status.OUTCOME_UNKNOWN if unknown else Status.RETRY
    with transaction.atomic():
        record_transition(record=record, to=to, attempts=attempts, needs_reconcile=unknown or record.needs_reconcile,
                          next_attempt_at=timezone.now() + timedelta(seconds=delay),
                          last_error=str(error)[:2000],
                          attempt=attempt_row(record, Outcome.OUTCOME_UNKNOWN if unknown else Outcome.RETRY, started,
                                              error=error))
    return to


def failure(record: ExportRecord, exc: errors.ConnectorError, started: datetime) -> str:
    """Dispatches on the error taxonomy, never on strings."""
    if isinstance(exc, CircuitOpen):   # nothing was sent: wait, as an open breaker before the call does
        return wait(record, until=timezone.now() + timedelta(seconds=exc.retry_after),
                    reason=said("wait_breaker_open"))
    if isinstance(exc, errors.RateLimited):
        delay = next_delay(1, retry_after=exc.retry_after)
        return wait(record, until=timezone.now() + timedelta(seconds=delay), reason=said("wait_rate_limited"),
                    started=started, error=exc)
    if isinstance(exc, errors.Transient):
        return retry(record, exc, started)
    if isinstance(exc, errors.OutcomeUnknown):
        return retry(record, exc, started, unknown=True)
    if isinstance(exc, errors.AuthExpired):
        return to_review(record, ReviewItem.Reason.AUTH, str(exc) or said("credentials_rejected"), started,
                         error=exc, counted=True)
    if isinstance(exc, errors.PeriodClosed):
        return period_closed(record, closing.vendor_refusal_decision(record=record, exc=exc), started, error=exc)
    if isinstance(exc, errors.Permanent):
        reason = ReviewItem.Reason.DUPLICATE_CONFLICT if exc.code in ("duplicate", "conflict") \
            else ReviewItem.Reason.VALIDATION
        return to_review(record, reason, exc.message or str(exc), started, error=exc, counted=True,
                         context={"code": exc.code, "field": exc.field or ""})
    return to_review(record, ReviewItem.Reason.REMOTE_ERROR, str(exc), started, error=exc, counted=True)


def period_closed(record: ExportRecord, decision: closing.PeriodDecision, started: datetime, *,
                  error: Exception | None = None) -> str:
    """Hold for review, or send again dated on the next open day under a new idempotency key
    (a refusal booked nothing; see services.closing). Re-dating spends an attempt, so a vendor
    that keeps refusing ends in review like any other."""
    if decision.redate_on is None:
        return to_review(record, ReviewItem.Reason.PERIOD_CLOSED, decision.detail, started, error=error,
                         context=decision.context, counted=error is not None)
    attempts = record.attempts + 1
    if attempts >= max_attempts():
        return to_review(record, ReviewItem.Reason.PERIOD_CLOSED,
                         said("redate_refused", date=decision.redate_on), started, error=error,
                         context=decision.context, counted=True)
    note = said("redated", date=decision.redate_on.isoformat())
    why = [] if error is not None else [str(decision.context.get("message", ""))]  # pre-flight's words
    with transaction.atomic():
        record_transition(record=record, to=Status.RETRY, attempts=attempts, posting_date=decision.redate_on,
                          idempotency_key=uuid.uuid4(), next_attempt_at=timezone.now(), last_error=note,
                          attempt=attempt_row(record, Outcome.REDATED, started, error=error,
                                              notes=[str(note), *filter(None, why)]))
        enqueue_on_commit([record.pk])
    return Status.RETRY
