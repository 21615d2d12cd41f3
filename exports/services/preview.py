"""The entry and the vendor payload of a record, kept without sending: with the record's next
transition as the worker works it, or at once in a dry run; also shown for any entry (the
schema-mapping preview)."""

from typing import Any

from django.utils import timezone

from connectors.entry import AccountingEntry
from connectors.models import Connection

from ..entries import entry_to_json
from ..messages import said, stored_of
from ..models import ExportAttempt, ExportRecord
from . import claimed
from .outcomes import WORKER
from .resolution import Resolution, record_resolve
from .status_update import UNSAVED, attempt_number


def payload_preview(connection: Connection, entry: AccountingEntry) -> dict[str, Any] | None:
    """The vendor payload, if the connector can show it without sending (dry run)."""
    try:
        return claimed.connector_shared(connection).preview(entry)
    except Exception as exc:  # noqa: BLE001  a preview is advisory
        return {"error": str(exc)}


def resolve_and_store(record: ExportRecord) -> Resolution:
    resolution = record_resolve(record=record)
    fields: dict[str, Any] = {"mapping_version": resolution.mapping_version}
    if resolution.entry is not None:
        fields["entry_preview"] = entry_to_json(resolution.entry)
        # The payload as the connector builds it, kept for every record (not only dry runs).
        fields["payload_preview"] = payload_preview(record.connection, resolution.entry)
    # Written with the record's next transition (status_update.UNSAVED), whatever it is: every
    # path from here ends in one. A worker that dies first leaves it unwritten, and the record is
    # resolved again (or, found at the vendor, in `lookup.reconcile`) before it settles.
    record.__dict__[UNSAVED] = fields
    for name, value in fields.items():
        setattr(record, name, value)
    return resolution


def store_preview(record: ExportRecord) -> None:
    """Dry run: build the entry and the vendor payload, keep them, send nothing."""
    try:
        resolution = record_resolve(record=record)
    except Exception as exc:  # noqa: BLE001  a preview must never break the dry run loop
        failed = said("preview_failed", error=exc)
        ExportRecord.objects.filter(pk=record.pk).update(last_error=failed[:2000],
                                                         last_error_message=failed.stored())
        return
    error = resolution.detail if resolution.entry is None else ""
    fields: dict[str, Any] = {"mapping_version": resolution.mapping_version, "last_error": str(error),
                              "last_error_message": stored_of(error)}
    if resolution.entry is not None:
        fields["entry_preview"] = entry_to_json(resolution.entry)
        fields["payload_preview"] = payload_preview(record.connection, resolution.entry)
    ExportRecord.objects.filter(pk=record.pk).update(**fields)
    ExportAttempt.objects.create(record=record, number=attempt_number(record.pk),
                                 started_at=timezone.now(), finished_at=timezone.now(),
                                 outcome=ExportAttempt.Outcome.DRY_RUN, worker=WORKER)
