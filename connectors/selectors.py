"""Reads for connections (admin, API and other apps)."""

from django.db.models import QuerySet
from django.utils import timezone

from .models import CallLog, Connection


def connections_active(*, organization_id: int | None = None) -> QuerySet[Connection]:
    qs = Connection.objects.filter(status=Connection.Status.CONNECTED)
    return qs.filter(organization_id=organization_id) if organization_id else qs


def connection_expense_accounts(*, connection: Connection) -> list[dict]:
    return list(connection.settings.get("expense_accounts", []))


def connection_calls_recent(*, connection: Connection, limit: int = 20) -> QuerySet[CallLog]:
    return CallLog.objects.filter(connection=connection)[:limit]


def connections_with_open_breaker(*, org_ids) -> QuerySet[Connection]:
    return Connection.objects.filter(organization_id__in=org_ids, paused_until__gt=timezone.now())
