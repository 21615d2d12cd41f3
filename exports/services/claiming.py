"""Claiming due records: compare-and-set one, or a batch with FOR UPDATE SKIP LOCKED.

A claimed record is `in_progress` with a lease; a worker killed while holding it leaves it so,
and the sweeper turns the expired lease into `outcome_unknown`.
"""

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection as db_connection
from django.db import transaction
from django.utils import timezone

from ..models import ExportRecord
from ..transitions import CLAIMABLE, Status


def lease_seconds() -> int:
    return getattr(settings, "EXPORTS_LEASE_SECONDS", 300)


def record_claim(*, record_id: int) -> ExportRecord | None:
    """Compare-and-set one due record to in_progress; None if it is not due or someone has it."""
    now = timezone.now()
    claimed = ExportRecord.objects.filter(
        pk=record_id, status__in=CLAIMABLE, next_attempt_at__lte=now,
    ).update(status=Status.IN_PROGRESS, leased_until=now + timedelta(seconds=lease_seconds()), updated_at=now)
    if not claimed:
        return None
    return ExportRecord.objects.select_related("connection__organization", "organization").get(pk=record_id)


def records_claim_due(*, limit: int = 50, connection_id: int | None = None) -> list[ExportRecord]:
    """Claims up to `limit` due records (of one connection, if given) atomically; concurrent
    workers get disjoint sets."""
    now = timezone.now()
    lease = now + timedelta(seconds=lease_seconds())
    with transaction.atomic():
        qs = ExportRecord.objects.filter(status__in=CLAIMABLE, next_attempt_at__lte=now).order_by(
            "next_attempt_at", "pk")
        if connection_id is not None:
            qs = qs.filter(connection_id=connection_id)
        if db_connection.vendor == "postgresql":
            ids = _claim_locked(qs.select_for_update(skip_locked=True, of=("self",)), limit=limit, lease=lease,
                                now=now)
        else:
            ids = list(qs.values_list("pk", flat=True)[:limit])
            # The status guard keeps this a compare-and-set where rows cannot be locked (SQLite).
            ExportRecord.objects.filter(pk__in=ids, status__in=CLAIMABLE).update(
                status=Status.IN_PROGRESS, leased_until=lease, updated_at=now)
    return _instances_shared(list(ExportRecord.objects.select_related("connection__organization", "organization")
                                  .filter(pk__in=ids, status=Status.IN_PROGRESS, leased_until=lease)))


def _instances_shared(records: list[ExportRecord]) -> list[ExportRecord]:
    """The claimed records of one connection share one Connection (and organisation) instance, as
    they already share its connector (claimed.connector_shared): its typed settings are parsed
    once per batch instead of once per record, and a breaker state read at send time is seen by
    the batch's next record. Every row was read by the same query, so the copies were equal."""
    connections: dict[int, Any] = {}
    organizations: dict[int, Any] = {}
    for record in records:
        conn = connections.setdefault(record.connection_id, record.connection)
        organizations.setdefault(conn.organization_id, conn.organization)
        conn.organization = organizations[conn.organization_id]
        record.connection = conn
        if record.organization_id in organizations:
            record.organization = organizations[record.organization_id]
    return records


def _claim_locked(due: Any, *, limit: int, lease: datetime, now: datetime) -> list[int]:
    """PostgreSQL: lock up to `limit` due rows (SKIP LOCKED: rows another worker holds are not
    waited for) and set them in_progress in one statement, the locking SELECT as the UPDATE's
    subquery; the ids claimed. The status guard is re-checked on the rows the subquery locked."""
    sub_sql, sub_params = due.values("pk")[:limit].query.get_compiler(using=db_connection.alias).as_sql()
    table = db_connection.ops.quote_name(ExportRecord._meta.db_table)
    claimable = [str(status) for status in CLAIMABLE]
    with db_connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE {table} SET "status" = %s, "leased_until" = %s, "updated_at" = %s '
            f'WHERE "id" IN ({sub_sql}) AND "status" IN ({", ".join(["%s"] * len(claimable))}) RETURNING "id"',
            [str(Status.IN_PROGRESS), lease, now, *sub_params, *claimable])
        return [row[0] for row in cursor.fetchall()]
