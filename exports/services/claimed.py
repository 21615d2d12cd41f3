"""What one claimed batch of records shares, read once for the batch instead of once per record.

A worker claims a handful of records and works through them within seconds. Reading each
record's expense (with its report, category, employee, card and receipts) and each connection's
cached vendor metadata once per batch, right after the claim, is as fresh as reading them per
record was: the source or the metadata can change at any moment either way, and what happens
then is the same (a cancellation after the push reverses the booking; a vendor's refusal for a
closed period follows the connection's policy and forgets this batch's copy of the metadata).
The batch also shares one connector per connection (one HTTP session, kept alive). Outside
`batch_shared` (a single record, the admin, tests) every read is done fresh, as before.
"""

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from connectors.base import Connector, connector_for
from connectors.models import Connection
from expensico_sync.source.models import Expense

from ..models import ExportRecord, Kind


@dataclass
class _Batch:
    expenses: dict[int, Expense] = field(default_factory=dict)
    metadata: dict[int, Any] = field(default_factory=dict)     # connection pk -> VendorMetadata | None
    connectors: dict[int, Connector] = field(default_factory=dict)


_batch: ContextVar[_Batch | None] = ContextVar("exports_claimed_batch", default=None)

_EXPENSE_RELATED = ("report", "category", "employee", "card")


def expenses_with_everything() -> Any:
    """The expense queryset an entry is built from without further queries."""
    return Expense.objects.select_related(*_EXPENSE_RELATED).prefetch_related("receipts")


@contextmanager
def batch_shared(records: Iterable[ExportRecord]) -> Iterator[None]:
    """Reads the batch's expenses in one query (and their receipts in one more)."""
    ids = [r.expense_id for r in records if r.kind == Kind.EXPENSE and r.expense_id]
    batch = _Batch(expenses={e.pk: e for e in expenses_with_everything().filter(pk__in=ids)} if ids else {})
    token = _batch.set(batch)
    try:
        yield
    finally:
        _batch.reset(token)


def expense_take(expense_id: int) -> Expense | None:
    """The batch's copy of this expense (handed out once: a second look reads fresh), or None."""
    batch = _batch.get()
    return batch.expenses.pop(expense_id, None) if batch is not None else None


def metadata_shared(connection_id: int, load: Callable[[], Any]) -> Any:
    """The connection's vendor metadata, loaded once per batch (every time outside one)."""
    batch = _batch.get()
    if batch is None:
        return load()
    if connection_id not in batch.metadata:
        batch.metadata[connection_id] = load()
    return batch.metadata[connection_id]


def metadata_forget(connection_id: int) -> None:
    """The vendor just told us something the cached copy did not know (a closed period)."""
    batch = _batch.get()
    if batch is not None:
        batch.metadata.pop(connection_id, None)


def organization_mode(record: ExportRecord) -> str | None:
    """The organisation's mode as the claim read it (None outside a batch: read it fresh)."""
    if _batch.get() is None or not ExportRecord.organization.is_cached(record):
        return None
    return record.organization.mode


def connector_shared(connection: Connection) -> Connector:
    """One connector (and HTTP session, kept alive) per connection for the batch: building one
    per use cost three HTTP stacks per record. Fresh outside a batch."""
    batch = _batch.get()
    if batch is None:
        return connector_for(connection)
    if connection.pk not in batch.connectors:
        batch.connectors[connection.pk] = connector_for(connection)
    return batch.connectors[connection.pk]
