"""What the integration is worth, per organisation and month (issue 20, item 6): sync rate by
system, exceptions by reason with their median time to resolve, time saved, vendor requests and
what the billed ones cost."""

import statistics
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from connectors.base import connector_class
from connectors.models import CallLog, Connection

from .models import ExportRecord, ReviewItem
from .snapshots.services import register_snapshot
from .transitions import Status


@dataclass(frozen=True)
class Period:
    start: date

    @property
    def end(self) -> date:
        return self.start + relativedelta(months=1)

    def moments(self) -> tuple[datetime, datetime]:
        """The month as [first instant, first instant of the next) in the current time zone: a range
        on a timestamp column reads its index, where `__date` compares a computed value per row."""
        zone = timezone.get_current_timezone()
        return (datetime.combine(self.start, time.min, tzinfo=zone), datetime.combine(self.end, time.min, tzinfo=zone))

    @classmethod
    def parse(cls, text: str | None, today: date) -> "Period":
        if not text:
            return cls(today.replace(day=1))
        try:
            year, month = (int(part) for part in text.split("-"))
            return cls(date(year, month, 1))
        except ValueError:
            raise ValueError("period: use YYYY-MM, e.g. 2026-11") from None


def month_metrics(organization, period: Period) -> dict:
    records = ExportRecord.objects.filter(organization=organization, document_date__gte=period.start,
                                          document_date__lt=period.end).exclude(kind="reversal")
    by_system = {}
    # Documents the system has no API for ("not supported by this system") are shown apart and
    # are not failures: they are outside the sync rate.
    unsupported = Q(vendor_status="unsupported")
    for row in (records.values("connection__system").annotate(
            total=Count("id", filter=~unsupported), exported=Count("id", filter=Q(status=Status.EXPORTED)),
            not_supported=Count("id", filter=unsupported)).order_by("connection__system")):
        by_system[row["connection__system"]] = {
            "documents": row["total"], "exported": row["exported"], "not_supported": row["not_supported"],
            "sync_rate": round(row["exported"] / row["total"], 4) if row["total"] else None}
    touched = ReviewItem.objects.filter(record=OuterRef("pk"))
    hands_free = records.filter(status=Status.EXPORTED).exclude(Exists(touched)).count()
    minutes = Decimal(settings.METRICS_MINUTES_PER_DOCUMENT)
    return {
        "id": organization.pk, "organization": organization.slug, "period": f"{period.start:%Y-%m}",
        "systems": by_system,
        "exceptions": _exceptions(organization, period),
        "time_saved": {"documents_without_a_person": hands_free, "minutes_per_document": str(minutes),
                       "hours": str((hands_free * minutes / 60).quantize(Decimal("0.1")))},
        "vendor_requests": _requests(organization, period),
    }


def _exceptions(organization, period: Period) -> list[dict]:
    first, after = period.moments()
    items = ReviewItem.objects.filter(organization=organization, created_at__gte=first, created_at__lt=after)
    grouped: dict[str, list] = {}
    for reason, created, resolved in items.values_list("reason", "created_at", "resolved_at"):
        grouped.setdefault(reason, []).append((resolved - created).total_seconds() / 3600 if resolved else None)
    labels = dict(ReviewItem.Reason.choices)
    rows = []
    for reason, hours in sorted(grouped.items(), key=lambda kv: -len(kv[1])):
        done = [h for h in hours if h is not None]
        rows.append({"reason": reason, "label": labels.get(reason, reason), "count": len(hours),
                     "resolved": len(done),
                     "median_hours_to_resolve": round(statistics.median(done), 1) if done else None})
    return rows


def _requests(organization, period: Period) -> list[dict]:
    rows = []
    for connection in Connection.objects.filter(organization=organization).order_by("name"):
        first, after = period.moments()
        sent = CallLog.objects.filter(connection=connection, created_at__gte=first, created_at__lt=after).count()
        try:
            cls = connector_class(connection.system)
        except LookupError:
            cls = None
        allowance = cls.monthly_request_allowance if cls else None
        price = cls.request_price if cls else None
        billed = max(0, sent - allowance) if allowance is not None else 0
        rows.append({"connection": connection.pk, "name": connection.name, "system": connection.system,
                     "requests": sent, "included": allowance, "billed": billed,
                     "cost": f"{price[0] * billed:.2f}" if price else None, "currency": price[1] if price else None})
    return rows


register_snapshot("metrics", lambda organization, start: month_metrics(organization, Period(start)))
