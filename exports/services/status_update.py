"""Every status change of an export record goes through `record_transition`.

It is a compare-and-set UPDATE (`WHERE status = <expected>`), so two workers, a worker and an
admin, or a worker and a vendor callback can never both move the same record. The change is
logged (exports.status_log.StatusChange) by that same statement on PostgreSQL: the UPDATE runs
inside a data-modifying CTE whose INSERT writes the log row for the row it changed, so a
transition still costs one round trip. Other databases (the embedded SQLite) add one INSERT."""

from typing import Any

from django.db import connections, router
from django.db.models import QuerySet
from django.db.models.sql import UpdateQuery
from django.utils import timezone

from ..errors import StaleRecord
from ..models import ExportRecord
from ..status_log import StatusChange
from ..transitions import IllegalTransition, check

UNSAVED = "_unsaved_fields"     # on a record: {field: value} to write with its next transition


def record_transition(*, record: ExportRecord, to: str, expected: str | None = None, by: object = None,
                      why: str = "", **fields: Any) -> ExportRecord:
    """Moves `record` from `expected` (default: its current status) to `to`, with extra field updates.
    `by`: who acted (a user, an API key, a label; None is the system); `why` defaults to the error
    or wait reason the change stores."""
    current = expected or record.status
    check(current, to)
    now = timezone.now()
    # What the worker computed for this record but has not written yet (its entry and payload
    # preview) goes out with the transition: one UPDATE instead of two.
    fields = {**record.__dict__.pop(UNSAVED, {}), "status": to, "updated_at": now, **fields}
    if to == ExportRecord.Status.EXPORTED:
        fields.setdefault("exported_at", now)
    if to != ExportRecord.Status.IN_PROGRESS:
        fields.setdefault("leased_until", None)
    log = StatusChange(at=now, from_status=current, to_status=to, actor=_who(by)[:150],
                       why=why or fields.get("last_error") or fields.get("wait_reason") or "")
    log.record_id = record.pk
    updated = _update_logged(ExportRecord.objects.filter(pk=record.pk, status=current), fields, log)
    if not updated:
        actual = ExportRecord.objects.filter(pk=record.pk).values_list("status", flat=True).first()
        if actual is not None and actual != current and not _legal(actual, to):
            raise IllegalTransition(actual, to)
        raise StaleRecord(f"record {record.pk} is no longer {current} (now {actual})")
    for name, value in fields.items():
        setattr(record, name, value)
    record._loaded_status = to
    return record


def _update_logged(queryset: QuerySet[ExportRecord], fields: dict[str, Any], log: StatusChange) -> int:
    """UPDATE the (at most one) row and INSERT its log row; one statement where the database allows."""
    db = router.db_for_write(ExportRecord)
    if connections[db].vendor != "postgresql":
        # One statement, atomic by itself: no savepoint (two round trips per record on the hot path).
        updated: int = queryset.update(**fields)
        if updated:
            StatusChange.objects.bulk_create([log])
        return updated
    query = queryset.query.chain(UpdateQuery)
    assert isinstance(query, UpdateQuery)
    query.add_update_values(fields)
    update_sql, params = query.get_compiler(db).as_sql()
    table = connections[db].ops.quote_name(StatusChange._meta.db_table)
    sql = (f'WITH changed AS ({update_sql} RETURNING "id") '
           f'INSERT INTO {table} ("record_id", "at", "from_status", "to_status", "actor", "why") '
           'SELECT "id", %s, %s, %s, %s, %s FROM changed')
    with connections[db].cursor() as cursor:
        cursor.execute(sql, [*params, log.at, log.from_status, log.to_status, log.actor, log.why])
        return int(cursor.rowcount)


def _who(by: object) -> str:
    if by is None:
        return ""
    return str(getattr(by, "username", "") or getattr(by, "name", "") or by)


def _legal(current: str, to: str) -> bool:
    try:
        check(current, to)
    except IllegalTransition:
        return False
    return True
