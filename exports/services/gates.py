"""Whether a claimed record may go out now: organisation mode, pilot scope, source state."""

from dataclasses import dataclass

from expensico_sync.core.models import Organization

from ..messages import said
from ..models import ExportRecord, Kind, PilotScope
from ..transitions import Status
from . import claimed

Mode = Organization.Mode


@dataclass(frozen=True)
class Gate:
    wait: bool = False
    dry_run: bool = False
    reason: str = ""


GO = Gate()
# The wait reasons a connection parks records by (receivers.py finds them again by these).
CONNECTION_PAUSED = said("wait_connection_paused")
CONNECTION_INACTIVE = said("wait_connection_inactive")


def in_pilot_scope(record: ExportRecord) -> bool:
    scope = PilotScope.objects.filter(organization_id=record.organization_id).first()
    if scope is None:
        return False
    if record.employee_id and scope.employees.filter(pk=record.employee_id).exists():
        return True
    if record.expense_id and record.expense is not None:
        return scope.categories.filter(pk=record.expense.category_id).exists()
    return False


def gate_for(record: ExportRecord) -> Gate:
    mode = claimed.organization_mode(record) or Organization.objects.values_list("mode", flat=True).get(
        pk=record.organization_id)
    if mode == Mode.PAUSED:
        return Gate(wait=True, reason=said("wait_organisation_paused"))
    if mode == Mode.DRY_RUN:
        return Gate(wait=True, dry_run=True, reason=said("wait_dry_run"))
    # A reversal undoes something already booked, so the pilot never holds it back.
    if mode == Mode.PILOT and record.kind != Kind.REVERSAL and not in_pilot_scope(record):
        return Gate(wait=True, reason=said("wait_pilot"))
    return GO


UNSUPPORTED = "unsupported"    # the record's vendor_status: "not supported by this system"


def kind_unsupported(record: ExportRecord) -> str | None:
    """Why the connection's system cannot take this kind of document (None: it can)."""
    from connectors.base import connector_class
    connector = connector_class(record.connection.system)
    if record.kind in connector.supported_kinds:
        return None
    return said("unsupported", system=connector.label, why=connector.unsupported_reason or record.kind)


def source_moot(record: ExportRecord) -> tuple[str, str] | None:
    """(status, why) when the source moved on since the record was made: nothing to send."""
    if record.kind != Kind.EXPENSE:
        return None
    assert record.expense_id is not None  # an expense record always has its expense
    # Read with everything the entry is built from, so resolving it costs no further queries:
    # once for the claimed batch (services.claimed says why that is as fresh), else here.
    expense = claimed.expense_take(record.expense_id) or claimed.expenses_with_everything().get(pk=record.expense_id)
    record.expense = expense
    if expense.status == "cancelled":
        return Status.CANCELLED, said("expense_cancelled")
    if expense.version > record.source_version:
        return Status.SUPERSEDED, said("superseded", version=expense.version)
    return None
