"""The vendor payload of an entry, shown without sending (dry runs, the schema-mapping preview)."""

from typing import Any

from connectors.entry import AccountingEntry
from connectors.models import Connection

from . import claimed


def payload_preview(connection: Connection, entry: AccountingEntry) -> dict[str, Any] | None:
    """The vendor payload, if the connector can show it without sending (dry run)."""
    try:
        return claimed.connector_shared(connection).preview(entry)
    except Exception as exc:  # noqa: BLE001  a preview is advisory
        return {"error": str(exc)}
