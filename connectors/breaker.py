"""The circuit breaker of a connection, kept on its row (`paused_until`, `consecutive_failures`):
checked as each request leaves (connectors/http.py), opened after BREAKER_THRESHOLD failures in
a row for BREAKER_COOLDOWN, closed by the next success."""

import time
from datetime import datetime, timedelta

from django.db.models import F
from django.utils import timezone

from .errors import Transient
from .limits import breaker_and_window_take, rate_limit_acquire, window_taken
from .models import Connection

BREAKER_THRESHOLD = 5
BREAKER_COOLDOWN = timedelta(seconds=60)


class CircuitOpen(Transient):
    """The breaker is open: no request was sent. Not retried inline; the caller reschedules."""

    def __init__(self, message: str, *, retry_after: float):
        super().__init__(message)
        self.retry_after = retry_after


def breaker_check(connection: Connection) -> None:
    """Raises CircuitOpen while the breaker is open. Also refreshes the connection's breaker
    fields in memory, which `breaker_record_success` relies on."""
    paused_until, failures = (Connection.objects.filter(pk=connection.pk)
                              .values_list("paused_until", "consecutive_failures").first() or (None, 0))
    _breaker_apply(connection, paused_until, failures, timezone.now())


def _breaker_apply(connection: Connection, paused_until: datetime | None, failures: int, now: datetime) -> None:
    """Keeps the breaker's state on the connection in memory; raises CircuitOpen while it is open."""
    connection.paused_until, connection.consecutive_failures = paused_until, failures
    if paused_until and paused_until > now:
        raise CircuitOpen(f"circuit open for {connection} until {paused_until:%H:%M:%S}",
                          retry_after=(paused_until - now).total_seconds())


def breaker_check_and_acquire(connection: Connection, *, per_second: int) -> None:
    """`breaker_check`, then a slot of the shared rate window (`rate_limit_acquire`): on PostgreSQL
    the breaker read and the first try at the window are one statement
    (`limits.breaker_and_window_take`); a worker that finds the window full sleeps until the next
    one opens before it tries again. An open breaker raises CircuitOpen and takes no slot."""
    now = timezone.now()
    window = int(time.time())
    row = breaker_and_window_take(connection.pk, window, per_second, now)
    if row is None:
        breaker_check(connection)
        rate_limit_acquire(connection, per_second=per_second)
        return
    paused_until, failures, count = row
    _breaker_apply(connection, paused_until, failures, now)
    if count is None:
        rate_limit_acquire(connection, per_second=per_second, full=window)
    else:
        window_taken(connection.pk, window, count)


def breaker_record_failure(connection: Connection) -> None:
    Connection.objects.filter(pk=connection.pk).update(consecutive_failures=F("consecutive_failures") + 1)
    failures = Connection.objects.filter(pk=connection.pk).values_list("consecutive_failures", flat=True).first()
    connection.consecutive_failures = failures or 0
    if failures and failures >= BREAKER_THRESHOLD:
        # Each further failure after the threshold (a half-open probe that failed) re-opens it.
        Connection.objects.filter(pk=connection.pk).update(paused_until=timezone.now() + BREAKER_COOLDOWN)


def breaker_record_success(connection: Connection) -> None:
    """Closes the breaker. Skipped (no statement) when `breaker_check` just read it clean, the
    common case: a failure another worker records in between then stays counted, which can only
    open the breaker sooner, never later."""
    if connection.consecutive_failures == 0 and connection.paused_until is None:
        return
    Connection.objects.filter(pk=connection.pk).exclude(consecutive_failures=0, paused_until=None).update(
        consecutive_failures=0, paused_until=None)
    connection.consecutive_failures, connection.paused_until = 0, None


def breaker_reset(*, connection: Connection) -> None:
    Connection.objects.filter(pk=connection.pk).update(consecutive_failures=0, paused_until=None)
    connection.consecutive_failures, connection.paused_until = 0, None
