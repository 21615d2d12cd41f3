"""Stored computations: register a kind, read it, refresh it (task) or ask for a refresh (request).

A page never computes: it reads the stored payload and, when there is none or it is older than
`STALE_SECONDS`, queues one refresh (at most one per `REQUEST_GAP_SECONDS`)."""

import time
from collections.abc import Callable
from datetime import date, timedelta

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


def snapshot_read(*, kind: str, organization: Organization, period: date) -> Snapshot:
    """The stored result (payload None when never computed); queues a refresh when missing or stale."""
    snapshot = Snapshot.objects.filter(kind=kind, organization=organization, period=period).first()
    stale = timezone.now() - timedelta(seconds=STALE_SECONDS)
    if snapshot is None or snapshot.computed_at is None or snapshot.computed_at < stale:
        snapshot = snapshot_request(kind=kind, organization=organization, period=period)
    return snapshot


def snapshot_payloads(*, kind: str, organizations, period: date) -> dict[int, Snapshot]:
    """One query for a page of organisations; each missing or stale one queues its refresh."""
    rows = {s.organization_id: s for s in Snapshot.objects.filter(kind=kind, period=period,
                                                                  organization__in=organizations)}
    stale = timezone.now() - timedelta(seconds=STALE_SECONDS)
    for org in organizations:
        row = rows.get(org.pk)
        if row is None or row.computed_at is None or row.computed_at < stale:
            rows[org.pk] = snapshot_request(kind=kind, organization=org, period=period)
    return rows


def snapshot_kinds() -> list[str]:
    return sorted(_kinds)
