"""Asynchronous import failures. Some vendors (Xledger) accept a document, then book it in a later
import job that can still fail: the record says exported, yet nothing was booked.

Connectors that offer the optional `import_failures(since=…)` capability are polled (a django-q2
schedule ticks every 5 minutes; `manage.py import_failures_poll` runs it now). A failure of one of
our records turns it back from exported to needs_review with a HIGH review item, so a person's
"retried" sends it again. Rows for references we never sent are ignored.

Frugal, because such vendors bill requests (Xledger: beyond 5,000 a month): a tick costs nothing
unless a point of the tail after the connection's last export (5, 15, 60 minutes and a day, by
default) has passed since its last poll. So a burst of exports costs about four polls, a busy
connection one poll per tick, an idle one nothing. The last point is there because when the
vendor's import job runs is not documented.

The cursor is the vendor's timestamp of the newest row handled (vendor time is only ever compared
with vendor time); it moves only after every row of a poll is handled, so a poll that dies loses
nothing, and a row seen twice finds its review item and changes nothing. It never passes a row
whose record is still being sent: the next poll sees that row again, once the record has settled.
A row is only about one import of a reference, and a reference can be sent again after a failed
import, so before a row parks an exported record the vendor is asked (one batched look-up, only
in a poll that has something to park) whether the reference's newest import is live; if it is,
the row is stale.
"""

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from connectors.base import Connector, ImportFailure, connector_class, connector_for
from connectors.errors import ConnectorError
from connectors.models import Connection
from expensico_sync.core.models import Organization

from ..errors import StaleRecord
from ..messages import said
from ..models import ExportAttempt, ExportRecord, ImportFailureCursor, ReviewItem
from ..transitions import Status
from .review import review_item_open
from .status_update import record_transition

log = logging.getLogger(__name__)


def poll_tail() -> tuple[timedelta, ...]:
    """When, after a connection's last export, its import failures are polled."""
    minutes = getattr(settings, "EXPORTS_IMPORT_FAILURE_POLL_MINUTES", (5, 15, 60, 24 * 60))
    return tuple(sorted(timedelta(minutes=m) for m in minutes))


def watch_window() -> timedelta:
    """How long after its last export a connection can still be polled."""
    return poll_tail()[-1]


def poll_due(*, last_export: datetime | None, polled_at: datetime | None, now: datetime) -> bool:
    """Whether a point of the tail after `last_export` has passed since the last poll."""
    if last_export is None:
        return False
    passed = [last_export + offset for offset in poll_tail() if last_export + offset <= now]
    return bool(passed) and (polled_at is None or passed[-1] > polled_at)


def _capable(connection: Connection) -> bool:
    try:
        return connector_class(connection.system).polls_import_failures
    except LookupError:
        return False


def connections_to_poll(*, force: bool = False, now: datetime | None = None) -> list[Connection]:
    """Connected, capable connections of organisations that send; unless `force`, only those
    due by the tail after their last export."""
    now = now or timezone.now()
    quiet = (Organization.Mode.DRY_RUN, Organization.Mode.PAUSED)
    candidates = Connection.objects.filter(status=Connection.Status.CONNECTED, active=True).exclude(
        organization__mode__in=quiet).select_related("import_failure_cursor").order_by("pk")
    out = []
    for connection in candidates:
        if not _capable(connection) or connection.breaker_open:
            continue
        if force:
            out.append(connection)
            continue
        cursor = getattr(connection, "import_failure_cursor", None)
        last_export = (ExportRecord.objects.filter(connection=connection, exported_at__lte=now)
                       .aggregate(last=Max("exported_at"))["last"])
        if poll_due(last_export=last_export, polled_at=cursor.polled_at if cursor else None, now=now):
            out.append(connection)
    return out


def import_failures_poll_due(*, force: bool = False, now: datetime | None = None) -> dict[str, int]:
    """Every connection due for a poll; one failing connection never stops the others."""
    totals: dict[str, int] = {"connections": 0, "errors": 0}
    for connection in connections_to_poll(force=force, now=now):
        try:
            counts = connection_import_failures_poll(connection=connection, now=now)
        except ConnectorError as exc:
            log.warning("import failure poll of connection %s failed: %s", connection.pk, exc)
            totals["errors"] += 1
            continue
        totals["connections"] += 1
        for key, value in counts.items():
            totals[key] = totals.get(key, 0) + value
    return totals


def connection_import_failures_poll(*, connection: Connection, now: datetime | None = None) -> dict[str, int]:
    """One poll of one connection: fetch (outside any transaction), handle every row, then move the cursor."""
    connector = connector_for(connection)
    if not connector.polls_import_failures:
        return {}
    cursor, _ = ImportFailureCursor.objects.get_or_create(connection=connection)
    started = now or timezone.now()
    failures = connector.import_failures(since=cursor.since or None)
    live = _live_references(connector, connection, failures)
    counts: dict[str, int] = {}
    newest, held_back = cursor.since, ""
    for failure in failures:
        outcome = import_failure_handle(connection=connection, failure=failure,
                                        stale=failure.reference in live)
        counts[outcome] = counts.get(outcome, 0) + 1
        newest = _later(newest, failure.created_at)
        if outcome == "in_flight" and failure.created_at:
            held_back = _earlier(held_back, failure.created_at)
    # Inclusive: the next poll asks from the held-back row itself, so it is handled once settled.
    since = _later(cursor.since, held_back) if held_back else newest
    ImportFailureCursor.objects.filter(pk=cursor.pk).update(since=since, polled_at=started)
    return counts


def _live_references(connector: Connector, connection: Connection, failures: list[ImportFailure]) -> set[str]:
    """References of exported records a new row would park, whose newest import is live after all."""
    refs = {f.reference for f in failures if f.reference}
    if not refs:
        return set()
    known = {error_id for context in ReviewItem.objects.filter(
        record__connection=connection, reason=ReviewItem.Reason.IMPORT_FAILED,
        record__reference__in=refs).values_list("context", flat=True) for error_id in context.get("error_ids", [])}
    exported = set(ExportRecord.objects.filter(connection=connection, reference__in=refs, status=Status.EXPORTED)
                   .values_list("reference", flat=True))
    ask = sorted({f.reference for f in failures if f.reference in exported and f.error_id not in known})
    if not ask:
        return set()
    return {ref for ref, doc in connector.find_by_reference(ask).items() if doc.live}


def import_failure_handle(*, connection: Connection, failure: ImportFailure, stale: bool = False) -> str:
    """opened (parked with a review item) · merged (another row of a failure already parked) ·
    seen (handled before) · in_flight (being sent: the worker looks it up first) · stale (about an
    import since replaced by a live one) · ignored (not ours)."""
    records = list(ExportRecord.objects.filter(connection=connection, reference=failure.reference))
    if not records:
        return "ignored"
    outcomes = {_record_failed(record, failure, stale) for record in records}
    for outcome in ("opened", "merged", "seen", "in_flight", "stale"):
        if outcome in outcomes:
            return outcome
    return "ignored"


def _record_failed(record: ExportRecord, failure: ImportFailure, stale: bool) -> str:
    for _ in range(3):
        try:
            with transaction.atomic():
                return _park(record, failure, stale)
        except StaleRecord:
            record.refresh_from_db()
    raise StaleRecord(said("kept_moving", record=record.pk))


def _park(record: ExportRecord, failure: ImportFailure, stale: bool) -> str:
    items = list(ReviewItem.objects.filter(record=record, reason=ReviewItem.Reason.IMPORT_FAILED))
    if any(failure.error_id in item.context.get("error_ids", []) for item in items):
        return "seen"
    if record.status in (Status.CANCELLED, Status.SUPERSEDED):
        return "ignored"
    if record.status not in (Status.EXPORTED, Status.NEEDS_REVIEW):
        return "in_flight"
    if stale and record.status == Status.EXPORTED:
        return "stale"
    detail = failure.message or said("import_failed")
    parked = next((item for item in items if item.is_open), None)
    if parked and record.status == Status.NEEDS_REVIEW:
        # Another error row of the same failed import (a vendor may report one per line).
        context = {**parked.context, "error_ids": [*parked.context.get("error_ids", []), failure.error_id],
                   "vendor_rows": [*parked.context.get("vendor_rows", []), failure.row]}
        joined = parked.detail if detail in parked.detail else f"{parked.detail}; {detail}"
        ReviewItem.objects.filter(pk=parked.pk).update(
            context=context, detail=joined, **({} if joined == parked.detail else {"detail_message": {}}))
        return "merged"
    if record.status == Status.EXPORTED:
        record_transition(record=record, to=Status.NEEDS_REVIEW, next_attempt_at=None, last_error=detail)
    now = timezone.now()
    ExportAttempt.objects.create(
        record=record, number=record.export_attempts.count() + 1, started_at=now, finished_at=now,
        outcome=ExportAttempt.Outcome.NEEDS_REVIEW, error_class="ImportFailed", error_code=failure.level[:80],
        error_message=detail[:2000], external_id=record.external_id, worker="import failure poll")
    review_item_open(record=record, reason=ReviewItem.Reason.IMPORT_FAILED, detail=detail,
                     severity=ReviewItem.Severity.HIGH,
                     context={"error_ids": [failure.error_id], "level": failure.level,
                              "created_at": failure.created_at, "external_id": record.external_id,
                              "vendor_rows": [failure.row]})
    return "opened"


def _later(current: str, candidate: str) -> str:
    return _pick(max, current, candidate)


def _earlier(current: str, candidate: str) -> str:
    return _pick(min, current, candidate)


def _pick(choose: Callable[..., str], current: str, candidate: str) -> str:
    if not current:
        return candidate
    if not candidate:
        return current
    try:
        return choose(current, candidate, key=datetime.fromisoformat)
    except (ValueError, TypeError):  # an unexpected format: ISO strings still sort
        return choose(current, candidate)
