"""Asynchronous import failures. Some vendors (Xledger) accept a document, then book it in a later
import job that can still fail: the record says exported, yet nothing was booked.

Connectors that offer the optional `import_failures(since=…)` capability are polled (a django-q2
schedule every 5 minutes; `manage.py import_failures_poll` runs it now). A failure of one of our
records turns it back from exported to needs_review with a HIGH review item, so a person's
"retried" sends it again. Rows for references we never sent are ignored.

Frugal, because such vendors bill requests: a connection is polled only while it has exported
something recently. The cursor is the vendor's timestamp of the newest row handled (vendor time is
only ever compared with vendor time); it moves only after every row of a poll is handled, so a
poll that dies loses nothing, and a row seen twice finds its review item and changes nothing.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from connectors.base import ImportFailure, connector_class, connector_for
from connectors.errors import ConnectorError
from connectors.models import Connection
from expensico_sync.core.models import Organization

from ..models import ExportAttempt, ExportRecord, ImportFailureCursor, ReviewItem
from ..transitions import Status
from .review import review_item_open
from .transition import StaleRecord, record_transition

log = logging.getLogger(__name__)


def watch_window() -> timedelta:
    """How long after its last export a connection keeps being polled."""
    return timedelta(hours=getattr(settings, "EXPORTS_IMPORT_FAILURE_WATCH_HOURS", 24))


def _capable(connection: Connection) -> bool:
    try:
        return callable(getattr(connector_class(connection.system), "import_failures", None))
    except LookupError:
        return False


def connections_to_poll(*, force: bool = False) -> list[Connection]:
    """Connected, capable connections of organisations that send; unless `force`, only those
    with a record exported since shortly before their last poll."""
    quiet = (Organization.Mode.DRY_RUN, Organization.Mode.PAUSED)
    candidates = Connection.objects.filter(status=Connection.Status.CONNECTED).exclude(
        organization__mode__in=quiet).select_related("import_failure_cursor").order_by("pk")
    out = []
    for connection in candidates:
        if not _capable(connection) or connection.breaker_open:
            continue
        cursor = getattr(connection, "import_failure_cursor", None)
        since = ((cursor.polled_at if cursor and cursor.polled_at else None) or timezone.now()) - watch_window()
        if force or ExportRecord.objects.filter(connection=connection, exported_at__gte=since).exists():
            out.append(connection)
    return out


def import_failures_poll_due(*, force: bool = False) -> dict[str, int]:
    """Every connection due for a poll; one failing connection never stops the others."""
    totals: dict[str, int] = {"connections": 0, "errors": 0}
    for connection in connections_to_poll(force=force):
        try:
            counts = connection_import_failures_poll(connection=connection)
        except ConnectorError as exc:
            log.warning("import failure poll of connection %s failed: %s", connection.pk, exc)
            totals["errors"] += 1
            continue
        totals["connections"] += 1
        for key, value in counts.items():
            totals[key] = totals.get(key, 0) + value
    return totals


def connection_import_failures_poll(*, connection: Connection) -> dict[str, int]:
    """One poll of one connection: fetch (outside any transaction), handle every row, then move the cursor."""
    poll = getattr(connector_for(connection), "import_failures", None)
    if poll is None:
        return {}
    cursor, _ = ImportFailureCursor.objects.get_or_create(connection=connection)
    started = timezone.now()
    failures = poll(since=cursor.since or None)
    counts: dict[str, int] = {}
    newest = cursor.since
    for failure in failures:
        outcome = import_failure_handle(connection=connection, failure=failure)
        counts[outcome] = counts.get(outcome, 0) + 1
        newest = _later(newest, failure.created_at)
    ImportFailureCursor.objects.filter(pk=cursor.pk).update(since=newest, polled_at=started)
    return counts


def import_failure_handle(*, connection: Connection, failure: ImportFailure) -> str:
    """opened (parked with a review item) · merged (another row of a failure already parked) ·
    seen (handled before) · in_flight (being sent: the worker looks it up first) · ignored (not ours)."""
    records = list(ExportRecord.objects.filter(connection=connection, reference=failure.reference))
    if not records:
        return "ignored"
    outcomes = {_record_failed(record, failure) for record in records}
    for outcome in ("opened", "merged", "seen", "in_flight"):
        if outcome in outcomes:
            return outcome
    return "ignored"


def _record_failed(record: ExportRecord, failure: ImportFailure) -> str:
    for _ in range(3):
        try:
            with transaction.atomic():
                return _park(record, failure)
        except StaleRecord:
            record.refresh_from_db()
    raise StaleRecord(f"record {record.pk} kept moving")


def _park(record: ExportRecord, failure: ImportFailure) -> str:
    items = list(ReviewItem.objects.filter(record=record, reason=ReviewItem.Reason.IMPORT_FAILED))
    if any(failure.error_id in item.context.get("error_ids", []) for item in items):
        return "seen"
    if record.status in (Status.CANCELLED, Status.SUPERSEDED):
        return "ignored"
    if record.status not in (Status.EXPORTED, Status.NEEDS_REVIEW):
        return "in_flight"
    detail = failure.message or "the vendor could not import this document"
    parked = next((item for item in items if item.is_open), None)
    if parked and record.status == Status.NEEDS_REVIEW:
        # Another error row of the same failed import (a vendor may report one per line).
        context = {**parked.context, "error_ids": [*parked.context.get("error_ids", []), failure.error_id],
                   "vendor_rows": [*parked.context.get("vendor_rows", []), failure.row]}
        joined = parked.detail if detail in parked.detail else f"{parked.detail}; {detail}"
        ReviewItem.objects.filter(pk=parked.pk).update(context=context, detail=joined)
        return "merged"
    if record.status == Status.EXPORTED:
        record_transition(record=record, to=Status.NEEDS_REVIEW, next_attempt_at=None, last_error=detail[:2000])
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
    if not current:
        return candidate
    if not candidate:
        return current
    try:
        return max(current, candidate, key=datetime.fromisoformat)
    except (ValueError, TypeError):  # an unexpected format: ISO strings still sort
        return max(current, candidate)
