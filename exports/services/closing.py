"""What the engine does with a document whose period is closed: the vendor refused it
(`PeriodClosed`) or our own close locked its month. The connection's policy decides: hold it for
review, or post it on the next open day (the memo keeps the original date).

Exactly once still holds when re-dating: a refusal booked nothing, so the re-dated document is a
new send under a new idempotency key (a vendor that remembers keys would otherwise answer the
new body with the old refusal) and the same reference, which the vendor never accepted."""

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from connectors.errors import PeriodClosed
from connectors.metadata import connection_lock_learn

from ..close.periods import closed_period_policy, month_locked, next_open_day, vendor_reopen_day
from ..messages import said
from ..models import ClosedPeriodPolicy, ExportRecord
from . import claimed


@dataclass(frozen=True)
class PeriodDecision:
    redate_on: date | None = None     # post on this day instead
    detail: str = ""                  # hold for review with this detail (when redate_on is None): a Message
    context: dict[str, Any] = field(default_factory=dict)


def _posting_day(record: ExportRecord) -> date | None:
    preview = record.entry_preview or {}
    if preview.get("date"):
        return date.fromisoformat(preview["date"])
    return record.posting_date or record.document_date


def own_lock_decision(*, record: ExportRecord, posting_day: date) -> PeriodDecision | None:
    """None when `posting_day` is in a month our own close has not locked."""
    if not month_locked(organization_id=record.organization_id, day=posting_day):
        return None
    context = {"closed_by": "close", "period": f"{posting_day:%Y-%m}", "date": posting_day.isoformat()}
    if closed_period_policy(record.connection) == ClosedPeriodPolicy.NEXT_OPEN:
        day = next_open_day(organization_id=record.organization_id, after=posting_day)
        return PeriodDecision(redate_on=day, context=context)
    return PeriodDecision(detail=said("period_signed_off", period=f"{posting_day:%Y-%m}"), context=context)


def vendor_refusal_decision(*, record: ExportRecord, exc: PeriodClosed) -> PeriodDecision:
    # Pre-flight catches the next document dated in the range before it is sent.
    connection_lock_learn(connection=record.connection, period_end=exc.period_end)
    claimed.metadata_forget(record.connection_id)
    refused_on = _posting_day(record)
    context = {"closed_by": "vendor", "period_end": exc.period_end or "",
               "date": refused_on.isoformat() if refused_on else "", "message": exc.message}
    if refused_on and closed_period_policy(record.connection) == ClosedPeriodPolicy.NEXT_OPEN:
        day = vendor_reopen_day(organization_id=record.organization_id, refused_on=refused_on,
                                period_end=exc.period_end)
        if day is not None:
            return PeriodDecision(redate_on=day, context=context)
        return PeriodDecision(detail=said("vendor_period_no_open", date=refused_on, vendor=exc.message),
                              context=context)
    if not refused_on:
        return PeriodDecision(detail=said("vendor_period_closed_undated", vendor=exc.message), context=context)
    if exc.period_end:
        return PeriodDecision(detail=said("vendor_period_closed_through", through=exc.period_end, date=refused_on,
                                          vendor=exc.message), context=context)
    return PeriodDecision(detail=said("vendor_period_closed", date=refused_on, vendor=exc.message), context=context)
