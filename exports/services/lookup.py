"""Outcome unknown: the vendor is asked by reference before anything is sent again."""

from datetime import datetime

from connectors import errors
from connectors.base import Connector, RemoteDocument

from ..models import ExportRecord, Kind
from . import outcomes
from .preview import resolve_and_store
from .reversals import reversed_record
from .status_update import UNSAVED


def reconcile(record: ExportRecord, connector: Connector, started: datetime, *,
              found: dict[str, RemoteDocument] | None = None) -> str | None:
    """The record's new status if the vendor holds it (or, for a reversal, has nothing left to
    undo), else None: send it. `found`: the answer of a look-up already made for many records
    (services.batch)."""
    refs = [record.reference]
    if record.kind == Kind.REVERSAL:
        refs.append(reversed_record(record).reference)
    try:
        found = connector.find_by_reference(refs) if found is None else found
    except errors.ConnectorError as exc:
        return outcomes.failure(record, exc, started)
    if record.kind == Kind.REVERSAL:
        original = found.get(reversed_record(record).reference)
        mine = found.get(record.reference)
        if mine is not None or original is None or not original.live:
            external = mine.external_id if mine else reversed_record(record).external_id
            return outcomes.exported(record, external, started, outcome=outcomes.Outcome.RECONCILED, counted=False)
        return None
    doc = found.get(record.reference)
    if doc is not None and doc.live:
        if not record.entry_preview:
            # Sent by a worker that died before writing down what it sent: keep the entry (a
            # reversal mirrors it), built as that worker built it.
            try:
                resolve_and_store(record)
            except Exception:  # noqa: BLE001  the booking stands; a missing preview only shows in review
                record.__dict__.pop(UNSAVED, None)
        return outcomes.exported(record, doc.external_id, started, outcome=outcomes.Outcome.RECONCILED, counted=False)
    ExportRecord.objects.filter(pk=record.pk).update(needs_reconcile=False)
    record.needs_reconcile = False
    return None
