"""Stored computations: register a kind, read it, refresh it (task) or ask for a refresh (request).

A page never computes: it reads the stored payload and, when there is none or it is older than
`STALE_SECONDS`, queues one refresh (at most one per `REQUEST_GAP_SECONDS`)."""

import time
from collections.abc import Callable
from datetime import date, timedelta

from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone
from django_q.tasks import async_task

from expensico_sync.core.models import Organization

from .models import Snapshot

STALE_SECONDS = 10 * 60            # the schedule refreshes every 5 minutes; older than this is a miss
REQUEST_GAP_SECONDS = 60           # one queued refresh per kind × organisation × month per minute
_kinds: dict[str, Callable[[Organization, date], object]] = {}


def register_snapshot(kind: str, compute: Callable[[Organization, date], object]) -> None:
    """`compute(organization, period)` returns JSON-able data; `period` is the month's first day."""
    _kinds[kind] = compute


def _compute(kind: str):
    try:
        return _kinds[kind]
    except KeyError:
        raise LookupError(f"no snapshot kind {kind!r}; registered: {sorted(_kinds)}") from None


def snapshot_refresh(*, kind: str, organization: Organization, period: date) -> Snapshot:
    """Compute now and store (the task's body; never called from a request)."""
    compute = _compute(kind)
    started = time.perf_counter()
    payload = compute(organization, period)
    took = int((time.perf_counter() - started) * 1000)
    snapshot, _ = Snapshot.objects.update_or_create(
        kind=kind, organization=organization, period=period,
        defaults={"payload": payload, "computed_at": timezone.now(), "duration_ms": took})
    return snapshot


def snapshot_request(*, kind: str, organization: Organization, period: date, force: bool = False) -> Snapshot:
    """Queue one refresh (unless one was queued in the last minute and `force` is false)."""
    _compute(kind)
    now = timezone.now()
    snapshot, _ = Snapshot.objects.get_or_create(kind=kind, organization=organization, period=period)
    recent = Q(requested_at__gt=now - timedelta(seconds=REQUEST_GAP_SECONDS))
    claimed = Snapshot.objects.filter(pk=snapshot.pk)
    if not force:
        claimed = claimed.exclude(recent)
    if claimed.update(requested_at=now):
        async_task("exports.snapshots.tasks.snapshot_refresh_task", kind, organization.pk, period.isoformat(),
                   group="snapshots")
    snapshot.refresh_from_db()
    return snapshot


def _queue_once(kind: str, organization: Organization, period: date) -> None:
    """From a GET: queue one refresh per minute per kind × organisation × month, and write no row
    (an admin GET changes nothing; the dedupe lives in the cache, like the dashboard's)."""
    if cache.add(f"snapshot-refresh:{kind}:{organization.pk}:{period:%Y-%m}", 1, REQUEST_GAP_SECONDS):
        async_task("exports.snapshots.tasks.snapshot_refresh_task", kind, organization.pk, period.isoformat(),
                   group="snapshots")


def _fresh(snapshot: Snapshot | None) -> bool:
    stale = timezone.now() - timedelta(seconds=STALE_SECONDS)
    return snapshot is not None and snapshot.computed_at is not None and snapshot.computed_at >= stale


def snapshot_read(*, kind: str, organization: Organization, period: date) -> Snapshot:
    """The stored result (an unsaved one with payload None when never computed); a missing or stale
    one queues its refresh and is served as it is meanwhile."""
    _compute(kind)
    found = Snapshot.objects.filter(kind=kind, organization=organization, period=period).first()
    if not _fresh(found):
        _queue_once(kind, organization, period)
        found = Snapshot.objects.filter(kind=kind, organization=organization, period=period).first() or found
    return found or Snapshot(kind=kind, organization=organization, period=period)


def snapshot_payloads(*, kind: str, organizations, period: date) -> dict[int, Snapshot]:
    """One query for a page of organisations; each missing or stale one queues its refresh."""
    rows = {s.organization_id: s for s in Snapshot.objects.filter(kind=kind, period=period,
                                                                  organization__in=organizations)}
    for org in organizations:
        if not _fresh(rows.get(org.pk)):
            rows[org.pk] = snapshot_read(kind=kind, organization=org, period=period)
    return rows


def snapshot_kinds() -> list[str]:
    return sorted(_kinds)
