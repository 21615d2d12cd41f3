"""Reads for Xledger's request budget: every request beyond the monthly allowance is billed
(UK: 5,000 included, then £0.01 each), so we count what we sent, per connection per month.
The call log has one row per request attempt that reached the network."""

from datetime import datetime
from decimal import Decimal

from django.db.models import Count
from django.utils import timezone

from ..models import CallLog, Connection

INCLUDED_REQUESTS = 5000
PRICE_PER_REQUEST = Decimal("0.01")   # GBP, Xledger UK


def month_start(now: datetime | None = None) -> datetime:
    return (now or timezone.now()).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def requests_this_month(connection: Connection, *, now: datetime | None = None) -> int:
    return CallLog.objects.filter(connection_id=connection.pk, created_at__gte=month_start(now)).count()


def monthly_usage(org_ids, *, now: datetime | None = None) -> list[dict]:
    """One row per Xledger connection: requests this month, how many are billable, the cost."""
    counts = dict(CallLog.objects.filter(connection__organization_id__in=org_ids, connection__system="xledger",
                                         created_at__gte=month_start(now))
                  .values_list("connection_id").annotate(n=Count("id")))
    out = []
    for conn in Connection.objects.filter(organization_id__in=org_ids, system="xledger").order_by("name"):
        used = counts.get(conn.pk, 0)
        billable = max(0, used - INCLUDED_REQUESTS)
        out.append({"connection": conn, "requests": used, "billable": billable,
                    "cost": billable * PRICE_PER_REQUEST})
    return out
