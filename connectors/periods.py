"""Locked accounting periods, as the sandboxes keep them and the connectors report them.

Every sandbox locks "every date up to and including `closed_through`" (the vendors close whole
months, but a lock date is what their own settings screens store), so the same small rules serve
all of them; connectors use `month_end` where a vendor's refusal names no period end.
"""

import calendar
from datetime import date


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def closed_through(value) -> date | None:
    """A sandbox control's `closed_through` (ISO date, or null to reopen everything)."""
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"closed_through: {value!r} is not an ISO date (YYYY-MM-DD)") from None


def is_closed(on, through: date | None) -> bool:
    """`on` (a date or an ISO date/date-time string) falls in the locked range."""
    if through is None or on in (None, ""):
        return False
    day = on if isinstance(on, date) else date.fromisoformat(str(on)[:10])
    return day <= through


def ending_with_month(exc, on: date):
    """A vendor's PeriodClosed that names no period end, for a document dated `on`, where the
    vendor's ledger periods are calendar months: closed at least through that month's last day."""
    from .errors import PeriodClosed
    if exc.period_end:
        return exc
    return PeriodClosed(exc.message, period_end=month_end(on).isoformat(), field=exc.field,
                        request_id=exc.request_id, status=exc.status)
