"""Reads for connections (admin, API and other apps)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

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


# The one definition every dashboard card about vendor failures uses (the call-volume card and the
# failure-rate card once disagreed: calls vs export attempts, different windows).
VENDOR_WINDOW = timedelta(hours=24)
FAILED_CALL_WORDS = gettext_lazy("a failed call: the vendor refused it, answered with an error, or did not answer")


@dataclass(frozen=True)
class VendorCallHealth:
    total: int
    failed: int
    until: datetime

    @property
    def rate_text(self) -> str:
        return f"{100 * self.failed / self.total:.1f}%" if self.total else "–"

    @property
    def window_text(self) -> str:
        local = timezone.localtime(self.until)
        return gettext("24 h to %(time)s") % {"time": f"{local:%H:%M} {local.tzname() or ''}".strip()}


def vendor_calls_window(*, org_ids, now: datetime | None = None) -> tuple[QuerySet[CallLog], datetime]:
    """The organisations' vendor calls of the last 24 h, to the end of the current minute (so two
    cards computed a moment apart read the same rows)."""
    until = (now or timezone.now()).replace(second=0, microsecond=0) + timedelta(minutes=1)
    calls = CallLog.objects.filter(connection__organization_id__in=org_ids, created_at__gte=until - VENDOR_WINDOW,
                                   created_at__lt=until)
    return calls, until


def vendor_call_health(*, org_ids, now: datetime | None = None) -> VendorCallHealth:
    calls, until = vendor_calls_window(org_ids=org_ids, now=now)
    totals = calls.aggregate(n=Count("id"), failed=Count("id", filter=~Q(error_class="")))
    return VendorCallHealth(total=totals["n"], failed=totals["failed"], until=until)
