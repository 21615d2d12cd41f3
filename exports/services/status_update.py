"""Every status change of an export record goes through `record_transition`.

It is a compare-and-set UPDATE (`WHERE status = <expected>`), so two workers, a worker and an
admin, or a worker and a vendor callback can never both move the same record."""

from typing import Any

from django.utils import timezone

from ..errors import StaleRecord
from ..models import ExportRecord
from ..transitions import IllegalTransition, check

UNSAVED = "_unsaved_fields"     # on a record: {field: value} to write with its next transition


def record_transition(*, record: ExportRecord, to: str, expected: str | None = None, **fields: Any) -> ExportRecord:
    """Moves `record` from `expected` (default: its current status) to `to`, with extra field updates."""
    current = expected or record.status
    check(current, to)
    # What the worker computed for this record but has not written yet (its entry and payload
    # preview) goes out with the transition: one UPDATE instead of two.
    fields = {**record.__dict__.pop(UNSAVED, {}), "status": to, "updated_at": timezone.now(), **fields}
    if to == ExportRecord.Status.EXPORTED:
        fields.setdefault("exported_at", timezone.now())
    if to != ExportRecord.Status.IN_PROGRESS:
        fields.setdefault("leased_until", None)
    # One statement, atomic by itself: no savepoint (two round trips per record on the hot path).
    updated = ExportRecord.objects.filter(pk=record.pk, status=current).update(**fields)
    if not updated:
        actual = ExportRecord.objects.filter(pk=record.pk).values_list("status", flat=True).first()
        if actual is not None and actual != current and not _legal(actual, to):
            raise IllegalTransition(actual, to)
        raise StaleRecord(f"record {record.pk} is no longer {current} (now {actual})")
    for name, value in fields.items():
        setattr(record, name, value)
    record._loaded_status = to
    return record


def _legal(current: str, to: str) -> bool:
    try:
        check(current, to)
    except IllegalTransition:
        return False
    return True
