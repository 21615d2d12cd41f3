"""Every status change of an export record goes through `record_transition`.

It is a compare-and-set UPDATE (`WHERE status = <expected>`), so two workers, a worker and an
admin, or a worker and a vendor callback can never both move the same record. The change is
logged (exports.status_log.StatusChange) by that same statement on PostgreSQL: the UPDATE runs
inside a data-modifying CTE whose INSERT writes the log row for the row it changed, and the
worker's attempt row (`attempt`), numbered inside its own INSERT, rides in the same statement, so
a transition with its log and its attempt costs one round trip. Other databases (the embedded
SQLite) add one INSERT for the log and one for the attempt, each only after the UPDATE changed
the row, as the CTE's INSERTs only insert for a row the UPDATE changed."""

from typing import Any

from django.db import connections, router
from django.db.models import Count, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.db.models.sql import UpdateQuery
from django.utils import timezone

from ..errors import StaleRecord
from ..messages import said, stored_of
from ..models import ExportAttempt, ExportRecord
from ..status_log import StatusChange
from ..transitions import IllegalTransition, check

UNSAVED = "_unsaved_fields"     # on a record: {field: value} to write with its next transition


def record_transition(*, record: ExportRecord, to: str, expected: str | None = None, by: object = None,
                      why: str = "", attempt: ExportAttempt | None = None, **fields: Any) -> ExportRecord:
    """Moves `record` from `expected` (default: its current status) to `to`, with extra field updates.
    `by`: who acted (a user, an API key, a label; None is the system); `why` defaults to the error
    or wait reason the change stores; a message of ours (exports/messages.py) keeps its code.
    `attempt`: an unsaved attempt row of this record, inserted with the change (its number, the record's attempts so far + 1, is counted by the INSERT), and
    only if the change is made."""
    current = expected or record.status
    check(current, to)
    now = timezone.now()
    # What the worker computed for this record but has not written yet (its entry and payload
    # preview) goes out with the transition: one UPDATE instead of two.
    fields = {**record.__dict__.pop(UNSAVED, {}), "status": to, "updated_at": now, **fields}
    # Before the error becomes plain text: a why of ours keeps its message code (shown in the reader's language).
    why = why or fields.get("last_error") or fields.get("wait_reason") or ""
    if "last_error" in fields:
        # Our own text keeps its message code beside it (exports/messages.py), shown in the viewer's language.
        fields["last_error_message"] = stored_of(fields["last_error"])
        fields["last_error"] = str(fields["last_error"])[:2000]
    if to == ExportRecord.Status.EXPORTED:
        fields.setdefault("exported_at", now)
    if to != ExportRecord.Status.IN_PROGRESS:
        fields.setdefault("leased_until", None)
    log = StatusChange(at=now, from_status=current, to_status=to, actor=_who(by)[:150],
                       why=str(why), why_message=stored_of(why))
    log.record_id = record.pk
    updated = _update_logged(ExportRecord.objects.filter(pk=record.pk, status=current), fields, log, attempt)
    if not updated:
        actual = ExportRecord.objects.filter(pk=record.pk).values_list("status", flat=True).first()
        if actual is not None and actual != current and not _legal(actual, to):
            raise IllegalTransition(actual, to)
        raise StaleRecord(said("stale_record", record=record.pk, expected={"status": current},
                                actual={"status": actual} if actual else "—"))
    for name, value in fields.items():
        setattr(record, name, value)
    record._loaded_status = to
    return record


def _update_logged(queryset: QuerySet[ExportRecord], fields: dict[str, Any], log: StatusChange,
                   attempt: ExportAttempt | None) -> int:
    """UPDATE the (at most one) row and INSERT its log row (and its attempt row); one statement
    where the database allows."""
    db = router.db_for_write(ExportRecord)
    if connections[db].vendor != "postgresql":
        # One statement, atomic by itself: no savepoint (two round trips per record on the hot path).
        updated: int = queryset.update(**fields)
        if updated:
            StatusChange.objects.bulk_create([log])
            if attempt is not None:
                attempt.number = attempt_number(attempt.record_id)
                attempt.save(force_insert=True)
        return updated
    query = queryset.query.chain(UpdateQuery)
    assert isinstance(query, UpdateQuery)
    query.add_update_values(fields)
    update_sql, params = query.get_compiler(db).as_sql()
    quote = connections[db].ops.quote_name
    table = quote(StatusChange._meta.db_table)
    log_sql = (f'INSERT INTO {table} ("record_id", "at", "from_status", "to_status", "actor", "why", "why_message") '
               'SELECT "id", %s, %s, %s, %s, %s, %s FROM changed')
    why_message = StatusChange._meta.get_field("why_message").get_db_prep_save(log.why_message, connections[db])
    log_params = [log.at, log.from_status, log.to_status, log.actor, log.why, why_message]
    if attempt is None:
        sql = f'WITH changed AS ({update_sql} RETURNING "id") {log_sql}'
        all_params = [*params, *log_params]
    else:
        # The attempt's number is counted inside its INSERT, as `attempt_number` does elsewhere;
        # the statement's snapshot holds every attempt committed before it, and the record's
        # row lock (taken by the UPDATE) keeps two of its attempts from being numbered at once.
        columns, values = _attempt_columns(attempt, connections[db])
        attempts = quote(ExportAttempt._meta.db_table)
        sql = (f'WITH changed AS ({update_sql} RETURNING "id"), logged AS ({log_sql}), '
               f'attempted AS (INSERT INTO {attempts} ("record_id", "number", {", ".join(map(quote, columns))}) '
               f'SELECT "id", (SELECT COUNT(*) FROM {attempts} WHERE "record_id" = changed."id") + 1, '
               f'{", ".join(["%s"] * len(values))} FROM changed) '
               'SELECT COUNT(*) FROM changed')
        all_params = [*params, *log_params, *values]
    with connections[db].cursor() as cursor:
        cursor.execute(sql, all_params)
        if attempt is None:
            return int(cursor.rowcount)
        row = cursor.fetchone()
        return int(row[0]) if row else 0


def attempt_number(record_id: int) -> Any:
    """The attempt's number (the record's attempts so far + 1) as an expression counted inside the
    INSERT itself: one statement instead of a COUNT and an INSERT. The instance keeps the
    expression, not the number; nothing reads it back from the returned row."""
    so_far = ExportAttempt.objects.filter(record_id=record_id).order_by().values("record_id").annotate(
        n=Count("pk")).values("n")
    return Coalesce(Subquery(so_far), 0) + 1


def _attempt_columns(attempt: ExportAttempt, connection: Any) -> tuple[list[str], list[Any]]:
    """The attempt's columns but its id, record and number, with their values prepared for the database."""
    fields = [f for f in ExportAttempt._meta.concrete_fields if f.attname not in ("id", "record_id", "number")]
    return ([str(f.column) for f in fields],
            [f.get_db_prep_save(f.pre_save(attempt, True), connection) for f in fields])


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
