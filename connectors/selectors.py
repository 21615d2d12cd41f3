"""Reads for connections (admin, API and other apps)."""

from django.db.models import QuerySet
from django.utils import timezone

from .base import CatalogItem, CatalogKind
from .models import CallLog, Connection
from .vendor_settings import VendorSettings


def connections_active(*, organization_id: int | None = None) -> QuerySet[Connection]:
    qs = Connection.objects.filter(status=Connection.Status.CONNECTED, active=True)
    return qs.filter(organization_id=organization_id) if organization_id else qs


def connection_expense_accounts(*, connection: Connection) -> list[dict]:
    return list(VendorSettings.of(connection).expense_accounts)


def connection_catalog_cached(*, connection: Connection, kind: CatalogKind) -> tuple[list[CatalogItem], str | None]:
    """The catalog as last fetched (never a vendor call), and when: only the EXPENSE accounts are
    kept on the connection; (the mappings app caches more, under /api/v1/remote-catalog/)."""
    fetched_at = VendorSettings.of(connection).catalog_fetched_at or None
    if kind != CatalogKind.ACCOUNTS or not fetched_at:
        return [], None
    return [CatalogItem(kind=CatalogKind.ACCOUNTS, remote_id=a["id"], name=a.get("name", ""), code=a.get("code", ""),
                        classification="EXPENSE") for a in connection_expense_accounts(connection=connection)], fetched_at


def connection_calls_recent(*, connection: Connection, limit: int = 20) -> QuerySet[CallLog]:
    return CallLog.objects.filter(connection=connection)[:limit]


def connections_with_open_breaker(*, org_ids) -> QuerySet[Connection]:
    return Connection.objects.filter(organization_id__in=org_ids, paused_until__gt=timezone.now())
