"""Pre-flight in the engine: before a document is sent, check it against the vendor's cached
metadata (connectors/preflight.py). A document the vendor would refuse is not sent: it goes to
review naming the field and the fix (`preflight_failed`), or, for a closed period, follows the
connection's closed-period policy as a vendor refusal would, without the request."""

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from connectors.entry import AccountingEntry
from connectors.errors import PeriodClosed
from connectors.metadata import connection_metadata
from connectors.models import Connection
from connectors.preflight import Finding, entry_findings

from ..messages import said
from ..models import ExportRecord, Kind
from . import claimed
from .closing import PeriodDecision, vendor_refusal_decision


@dataclass(frozen=True)
class Blocked:
    detail: str = ""
    findings: tuple[Finding, ...] = ()
    period: PeriodDecision | None = None          # re-date instead (the closed-period policy)
    context: dict[str, Any] = field(default_factory=dict)


def entry_check(*, connection: Connection, entry: AccountingEntry) -> list[Finding]:
    """The findings for `entry` on `connection` ([] when the connector offers no metadata)."""
    meta = claimed.metadata_shared(connection.pk, lambda: connection_metadata(connection=connection))
    if meta is None:
        return []
    connector = claimed.connector_shared(connection)
    base = frozenset(c for c in (connection.organization.base_currency,) if c)
    return entry_findings(entry, meta, vendor=connector.label or connection.system,
                          dimension_key=connector.dimension_key, base_currencies=base)


def record_preflight(*, record: ExportRecord, entry: AccountingEntry) -> Blocked | None:
    """None: send it. Reversals are not checked: undoing a booking must not wait on today's chart."""
    if record.kind == Kind.REVERSAL:
        return None
    findings = entry_check(connection=record.connection, entry=entry)
    if not findings:
        return None
    context = {"findings": [{"field": f.field, "problem": f.problem, "fix": f.fix, "code": f.code} for f in findings],
               "field": findings[0].field, "fix": findings[0].fix}
    period = [f for f in findings if f.code == "period_closed"]
    if period and len(period) == len(findings):
        # Only the period stands in the way: the connection's closed-period policy decides, as it
        # does for the vendor's own refusal (hold as `period_closed`, or re-date).
        meta = claimed.metadata_shared(record.connection_id, lambda: connection_metadata(connection=record.connection))
        through = meta.closed_through.isoformat() if meta and meta.closed_through else None
        decision = vendor_refusal_decision(record=record, exc=PeriodClosed(period[0].problem, period_end=through))
        decision = dataclasses.replace(decision, context={**context, **decision.context})
        return Blocked(period=decision, findings=tuple(findings), context=context)
    detail = said("preflight", findings=[f.said() for f in findings])
    return Blocked(detail=detail, findings=tuple(findings), context=context)
