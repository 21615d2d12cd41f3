"""The vendor payload of an entry, shown without sending (dry runs, the schema-mapping preview)."""

from typing import Any

from connectors.base import connector_for
from connectors.entry import AccountingEntry
from connectors.models import Connection


def payload_preview(connection: Connection, entry: AccountingEntry) -> dict[str, Any] | None:
    """The vendor payload, if the connector can show it without sending (dry run)."""
    try:
        return connector_for(connection).preview(entry)
    except Exception as exc:  # noqa: BLE001  a preview is advisory
        return {"error": str(exc)}
