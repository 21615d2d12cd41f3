"""django-q2 entry points: the daily scan of every organisation, and one organisation on demand."""

from datetime import date

from expensico_sync.core.models import Organization

from .services import anomaly_scan


def anomalies_scan_all() -> dict:
    return {org.slug: anomaly_scan(organization=org).flagged for org in Organization.objects.order_by("id")}


def anomalies_scan_one(organization_id: int, since: str | None = None, until: str | None = None) -> int:
    org = Organization.objects.get(pk=organization_id)
    return anomaly_scan(organization=org, since=date.fromisoformat(since) if since else None,
                        until=date.fromisoformat(until) if until else None).flagged
