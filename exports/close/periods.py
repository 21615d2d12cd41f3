"""Closed periods: which months our own close has locked, where the next open day is, and the
connection's policy for a document that falls in a closed period (ours or the vendor's)."""

from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, timedelta

from ..models import ClosedPeriodPolicy, ConnectionClosePolicy, MonthClose
from .registry import month_start

# A vendor that never says where its closed period ends is walked forward a month at a time;
# this many months past the document's date without an open one, and a person must look.
MAX_MONTHS_FORWARD = 12


def next_month(day: date) -> date:
    return (month_start(day) + timedelta(days=32)).replace(day=1)


_locked: ContextVar[dict | None] = ContextVar("close_locked_months", default=None)


@contextmanager
def locks_shared():
    """Within one worker batch each organisation's locked months are read once (a batch lasts
    seconds; a sign-off meanwhile is seen by the next batch)."""
    token = _locked.set({})
    try:
        yield
    finally:
        _locked.reset(token)


def locked_months(organization_id: int) -> frozenset[date]:
    cache = _locked.get()
    if cache is not None and organization_id in cache:
        return cache[organization_id]
    months = frozenset(MonthClose.objects.filter(organization_id=organization_id,
                                                 status=MonthClose.Status.SIGNED_OFF).values_list("period", flat=True))
    if cache is not None:
        cache[organization_id] = months
    return months


def month_locked(*, organization_id: int, day: date) -> bool:
    return month_start(day) in locked_months(organization_id)


def next_open_day(*, organization_id: int, after: date) -> date:
    """The first day of the first month after `after`'s own that our close has not locked."""
    locked = locked_months(organization_id)
    day = next_month(after)
    while day in locked:
        day = next_month(day)
    return day


def closed_period_policy(connection) -> str:
    policy = ConnectionClosePolicy.objects.filter(connection=connection).values_list("closed_period", flat=True)
    return policy.first() or ClosedPeriodPolicy.HOLD


def vendor_reopen_day(*, organization_id: int, refused_on: date, period_end: str | None) -> date | None:
    """Where to post a document the vendor refused for `refused_on`: the day after the vendor's
    closed period (when it says), else the next month, and never into a month we locked; None
    when that lies too far ahead to be a plausible open period."""
    after = date.fromisoformat(period_end) + timedelta(days=1) if period_end else next_month(refused_on)
    if after <= refused_on:
        after = next_month(refused_on)
    day = after if not month_locked(organization_id=organization_id, day=after) else \
        next_open_day(organization_id=organization_id, after=after)
    limit = month_start(refused_on)
    for _ in range(MAX_MONTHS_FORWARD):
        limit = next_month(limit)
    return day if day < limit else None
