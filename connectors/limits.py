"""Client-side limits shared by every worker process on every machine: the database holds the
count, so one connection has one budget however many workers push through it.

Each limiter raises `ClientRateLimited` (nothing was sent) when it cannot get a place in time;
the export engine then reschedules the record without spending an attempt.
"""

import time
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from django.db import connection as db_connection
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .errors import RateLimited
from .models import ConcurrencySlot, Connection, RateLimitSlot, RateLimitWindow

RATE_WAIT_MAX = 5.0


class ClientRateLimited(RateLimited):
    """Our own limiter said no: nothing was sent."""


def rate_limit_acquire(connection: Connection, *, per_second: int, wait_max: float = RATE_WAIT_MAX,
                       full: int | None = None) -> None:
    """Takes one slot of the connection's per-second budget, waiting up to `wait_max` for one.

    Every slot is taken by one conditional upsert (`_window_take`), so concurrent workers can never
    take more than `per_second` slots in a window between them. When the current window is full
    (or `full`, a window the caller already found full, `breaker_and_window_take`), the worker
    reads the next windows' counts once, takes a place in the first one with room and sleeps until
    that window opens: waiting costs two statements whatever its length, not one per window, and
    the workers queue for the windows in the order they asked instead of racing for each one."""
    deadline = time.time() + wait_max
    if full is None:
        full = int(time.time())
        count = _window_take(connection.pk, full, per_second)
        if count is not None:
            window_taken(connection.pk, full, count)
            return
    while True:
        window = _window_with_room(connection.pk, after=max(full, int(time.time()) - 1), until=int(deadline),
                                   per_second=per_second)
        if window is None:
            raise ClientRateLimited("client-side rate limit reached",
                                    retry_after=max(1.0, int(deadline) + 1 - time.time()))
        count = _window_take(connection.pk, window, per_second)
        if count is not None:
            window_taken(connection.pk, window, count)
            time.sleep(max(0.0, window - time.time()))    # the place is in that window: send in it
            return
        full = window    # another worker took its last place between the read and the take


def _window_with_room(connection_id: int, *, after: int, until: int, per_second: int) -> int | None:
    """The first window in (after, until] with fewer than `per_second` places taken (one read)."""
    if until <= after:
        return None
    counts = dict(RateLimitWindow.objects.filter(connection_id=connection_id, window__gt=after, window__lte=until)
                  .values_list("window", "count"))
    return next((w for w in range(after + 1, until + 1) if counts.get(w, 0) < per_second), None)


def window_taken(connection_id: int, window: int, count: int) -> None:
    if count == 1 and window % 10 == 0:
        # Old windows are useless; the first taker of every tenth window clears them. That alone
        # is not enough: calls that never land on such a window (a job every 60 s at :07, or a
        # connection that stops calling) would keep their rows forever; `rate_windows_sweep` does.
        RateLimitWindow.objects.filter(connection_id=connection_id, window__lt=window - 5).delete()


WINDOW_KEEP = 60          # seconds: a window older than this is never read again (waits are ≤ RATE_WAIT_MAX)
SLOT_KEEP = timedelta(hours=1)    # longer than any vendor's sliding burst window
SWEEP_BATCH = 5000
SWEEP_BATCHES = 200       # per table and run: a backlog larger than a million rows takes several runs


def rate_windows_sweep(*, now: float | None = None, batch: int = SWEEP_BATCH, batches: int = SWEEP_BATCHES) -> int:
    """Deletes every connection's per-second windows older than `WINDOW_KEEP` and sliding-window
    slots older than `SLOT_KEEP`, `batch` rows per statement and at most `batches` statements per
    table (each short, the run bounded, whatever the backlog).
    Run every few minutes by the django-q2 schedule `connectors.rate_windows_sweep`, so the tables
    hold at most a few minutes of rows per connection however it calls. The rows deleted."""
    now = time.time() if now is None else now
    stale = [RateLimitWindow.objects.filter(window__lt=int(now) - WINDOW_KEEP),
             RateLimitSlot.objects.filter(taken_at__lt=datetime.fromtimestamp(now, tz=UTC) - SLOT_KEEP)]
    deleted = 0
    for rows in stale:
        for _ in range(batches):
            ids = list(rows.order_by().values_list("pk", flat=True)[:batch])
            if not ids:
                break
            deleted += rows.model._default_manager.filter(pk__in=ids).delete()[0]
    return deleted


def _window_take(connection_id: int, window: int, per_second: int) -> int | None:
    """One statement: open the window with a count of 1, or add 1 to its count while it is under
    `per_second`; the count taken, or None when the window is full. The conditional upsert is
    atomic on PostgreSQL and SQLite alike (the row lock / the database lock), so concurrent
    workers can never take more than `per_second` between them."""
    table = RateLimitWindow._meta.db_table
    with db_connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO "{table}" (connection_id, "window", count) VALUES (%s, %s, 1) '
            f'ON CONFLICT (connection_id, "window") DO UPDATE SET count = "{table}".count + 1 '
            f'WHERE "{table}".count < %s RETURNING count', [connection_id, window, per_second])
        row = cursor.fetchone()
    return int(row[0]) if row else None


def breaker_and_window_take(connection_id: int, window: int, per_second: int,
                            now: datetime) -> tuple[datetime | None, int, int | None] | None:
    """The connection's breaker (paused_until, consecutive failures) and, while it is not open, a
    slot of `window` taken by `_window_take`'s own conditional upsert, in one statement on
    PostgreSQL: (paused_until, failures, count taken or None when the window is full or the breaker
    open). None on other databases (the caller reads the breaker and takes the slot apart), or when
    the connection is gone.

    The upsert is the same statement `_window_take` sends, carried in a data-modifying CTE: its
    ON CONFLICT row lock still serialises concurrent takers, so workers can never take more than
    `per_second` slots of a window between them. The breaker is read in the same snapshot, as
    `breaker_check` read it just before; an open breaker takes no slot."""
    if db_connection.vendor != "postgresql":
        return None
    windows, connections = RateLimitWindow._meta.db_table, Connection._meta.db_table
    with db_connection.cursor() as cursor:
        cursor.execute(
            f'WITH breaker AS (SELECT paused_until, consecutive_failures FROM "{connections}" WHERE id = %s), '
            f'taken AS (INSERT INTO "{windows}" (connection_id, "window", count) '
            f'SELECT %s, %s, 1 FROM breaker WHERE paused_until IS NULL OR paused_until <= %s '
            f'ON CONFLICT (connection_id, "window") DO UPDATE SET count = "{windows}".count + 1 '
            f'WHERE "{windows}".count < %s RETURNING count) '
            'SELECT paused_until, consecutive_failures, (SELECT count FROM taken) FROM breaker',
            [connection_id, connection_id, window, now, per_second])
        row = cursor.fetchone()
    if row is None:
        return None
    return row[0], int(row[1]), (int(row[2]) if row[2] is not None else None)


def window_slot_acquire(connection: Connection, *, limit: int, seconds: float, wait_max: float) -> None:
    """Takes one of `limit` slots in any sliding window of `seconds` (a vendor's burst limit such
    as Xledger's 20 requests / 5 s), waiting up to `wait_max` for one.

    Counting answered calls is not enough: requests still in flight are invisible to the call log
    and several workers may see the same free slot. Here a slot is a row taken under the
    connection's row lock before the request leaves, so workers on PostgreSQL can never exceed
    the limit between them (SQLite serialises writers itself)."""
    deadline = time.monotonic() + wait_max
    window = timedelta(seconds=seconds)
    while True:
        with transaction.atomic():
            Connection.objects.select_for_update().filter(pk=connection.pk).values_list("pk", flat=True).first()
            now = timezone.now()
            RateLimitSlot.objects.filter(connection_id=connection.pk, taken_at__lte=now - window).delete()
            taken = list(RateLimitSlot.objects.filter(connection_id=connection.pk).order_by("taken_at")
                         .values_list("taken_at", flat=True)[:limit])
            if len(taken) < limit:
                RateLimitSlot.objects.create(connection_id=connection.pk, taken_at=now)
                return
            wait = max(0.01, (taken[0] + window - now).total_seconds())
        if time.monotonic() + wait > deadline:
            raise ClientRateLimited(f"{limit} requests in {seconds:g} s reached", retry_after=wait)
        time.sleep(wait)


@contextmanager
def concurrency_slot(connection: Connection, *, limit: int, lease: float, wait_max: float):
    """Holds one of `limit` places for requests in flight at once (a vendor's concurrency limit,
    such as Business Central's 5), waiting up to `wait_max` for one.

    A place is a row claimed by a conditional UPDATE, so workers in different processes can never
    hold more than `limit` between them. It is released when the block ends; a worker killed while
    holding it loses it when `lease` runs out (longer than any request may take)."""
    holder = uuid.uuid4().hex
    deadline = time.monotonic() + wait_max
    slot = _concurrency_take(connection, limit=limit, lease=lease, holder=holder)
    while slot is None:
        if time.monotonic() >= deadline:
            raise ClientRateLimited(f"{limit} requests already in flight", retry_after=1.0)
        time.sleep(0.02)
        slot = _concurrency_take(connection, limit=limit, lease=lease, holder=holder)
    try:
        yield slot
    finally:
        ConcurrencySlot.objects.filter(connection_id=connection.pk, slot=slot, holder=holder).update(
            holder="", held_until=None)


def _concurrency_take(connection: Connection, *, limit: int, lease: float, holder: str) -> int | None:
    places = ConcurrencySlot.objects.filter(connection_id=connection.pk, slot__lt=limit)
    for _ in range(2):
        now = timezone.now()
        free = Q(held_until__isnull=True) | Q(held_until__lt=now)
        for slot in places.filter(free).values_list("slot", flat=True):
            # Another worker may have taken it since the read: the UPDATE re-checks, atomically.
            if places.filter(free, slot=slot).update(holder=holder, held_until=now + timedelta(seconds=lease)):
                return slot
        if places.count() >= limit:
            return None
        ConcurrencySlot.objects.bulk_create(        # first use: lay out the places once
            [ConcurrencySlot(connection_id=connection.pk, slot=n) for n in range(limit)], ignore_conflicts=True)
    return None
