"""django-q2 tasks: refresh one snapshot, or every organisation's open months (scheduled)."""

from datetime import date

from dateutil.relativedelta import relativedelta

from expensico_sync.core.models import Organization

from ..models import MonthClose
from .services import snapshot_kinds, snapshot_refresh, snapshot_request


def snapshot_refresh_task(kind: str, organization_id: int, period: str) -> int | None:
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        return None
    return snapshot_refresh(kind=kind, organization=organization, period=date.fromisoformat(period)).duration_ms


def open_months(organization: Organization, today: date) -> list[date]:
    """This month and the last one, unless signed off (a signed month's checklist is stored at sign-off)."""
    this = today.replace(day=1)
    months = [this, this - relativedelta(months=1)]
    locked = set(MonthClose.objects.filter(organization=organization, period__in=months,
                                           status=MonthClose.Status.SIGNED_OFF).values_list("period", flat=True))
    return [m for m in months if m not in locked]


def snapshots_refresh_open_months(today: date | None = None) -> int:
    """The schedule (every 5 minutes): one queued refresh per organisation × open month × kind, so a
    slow organisation is its own task, within the cluster's timeout, and workers share the load."""
    from django.utils import timezone

    today = today or timezone.localdate()
    queued = 0
    for organization in Organization.objects.order_by("pk"):
        for period in open_months(organization, today):
            for kind in snapshot_kinds():
                snapshot_request(kind=kind, organization=organization, period=period, force=True)
                queued += 1
    return queued
