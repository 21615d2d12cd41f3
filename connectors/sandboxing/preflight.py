"""Test hooks shared by the vendors' testkits for pre-flight (tests/contract/test_preflight.py)."""

from connectors.models import Connection


def require_dimension(connection: Connection, account: str, kind: str) -> str:
    """States a mandatory-field rule of the ledger on the connection (as a customer would after
    setting, e.g., Business Central's "Code Mandatory" default dimension on the account)."""
    settings = dict(connection.settings or {})
    settings["required_dimensions"] = {**settings.get("required_dimensions", {}), account: [kind]}
    Connection.objects.filter(pk=connection.pk).update(settings=settings)
    connection.settings = settings
    return kind


def state_lock(connection: Connection, through) -> None:
    """States the ledger's lock date on the connection (`vendor_closed_through`), as a customer
    whose vendor does not publish it through the API does after closing a period there."""
    settings = {**(connection.settings or {}), "vendor_closed_through": through.isoformat()}
    Connection.objects.filter(pk=connection.pk).update(settings=settings)
    connection.settings = settings
