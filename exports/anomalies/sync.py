"""Sync anomalies per connection, against the connection's own recent past (median/MAD), for the
alerts scan: an error-rate spike, a latency spike, a steady exporter suddenly exporting nothing.

The fixed-threshold alerts (exports.alerts) say "20 % failed"; these say "unusual for this
connection", which catches a vendor that usually fails 0 % now failing 8 %, and stays quiet for
one that always fails 15 %. Each has a per-organisation switch and threshold (AnomalySetting)."""

from collections import defaultdict
from datetime import timedelta
from statistics import median

from django.conf import settings as django_settings
from django.db.models import Count, Q
from django.db.models.functions import TruncHour
from django.urls import reverse
from django.utils.translation import gettext_lazy

from connectors.models import CallLog, Connection
from expensico_sync.notify.kinds import register_kind
from mappings.drift import DRIFT, drift_of

from ..alerts import _raise, scan_register
from ..models import ExportAttempt, ExportRecord
from ..transitions import Status
from .detectors import MAD_TO_SIGMA
from .models import AnomalySetting

MANAGERS = {"owner", "finance_admin"}
ERROR_SPIKE = register_kind("connection.error_rate_spike", gettext_lazy("Connection error rate unusual for it"), roles=MANAGERS)
LATENCY_SPIKE = register_kind("connection.latency_spike", gettext_lazy("Connection much slower than usual"), roles=MANAGERS)
SILENT = register_kind("connection.silent", gettext_lazy("Connection suddenly exporting nothing"), roles=MANAGERS)

BASELINE_DAYS = 7
# key: (label, default threshold, what the threshold means)
SYNC_DETECTORS = {
    "sync_error_rate": ("Sync error-rate spike", 4.0,
                        "Robust z-score of the last hour's error rate against the past week's hours"),
    "sync_latency": ("Sync latency spike", 3.0, "How many times the usual hourly p95 the last hour's p95 must reach"),
    "sync_silence": ("Connection suddenly silent", 12.0,
                     "Hours without an export, for a connection that exported on most of the past 14 days"),
}
FAILED = [ExportAttempt.Outcome.RETRY, ExportAttempt.Outcome.OUTCOME_UNKNOWN, ExportAttempt.Outcome.NEEDS_REVIEW]


def _switches(organization_id) -> dict[str, tuple[bool, float]]:
    rows = {s.detector: s for s in AnomalySetting.objects.filter(organization_id=organization_id,
                                                                 detector__in=SYNC_DETECTORS)}
    return {key: (rows[key].enabled, rows[key].threshold or default) if key in rows else (True, default)
            for key, (_, default, _) in SYNC_DETECTORS.items()}


def _scale(values: list[float], floor: float) -> tuple[float, float]:
    mid = median(values)
    return mid, max(float(MAD_TO_SIGMA) * median(abs(v - mid) for v in values), floor)  # rates, not money


def _attempts(connection, start, end):
    # Holds and mapping gaps park a record without calling the vendor: not attempts at all.
    return (ExportAttempt.objects.filter(record__connection=connection, finished_at__gte=start, finished_at__lt=end)
            .exclude(error_class="", outcome=ExportAttempt.Outcome.NEEDS_REVIEW))


def error_rate_spike(connection: Connection, now, threshold: float) -> tuple[bool, str]:
    last_hour = now - timedelta(hours=1)
    counts = dict(total=Count("id"), failed=Count("id", filter=Q(outcome__in=FAILED)))
    rows = (_attempts(connection, now - timedelta(days=BASELINE_DAYS), last_hour)
            .annotate(hour=TruncHour("finished_at")).values("hour").annotate(**counts))
    past = [r["failed"] / r["total"] for r in rows if r["total"] >= 3]
    recent = _attempts(connection, last_hour, now).aggregate(**counts)
    if len(past) < 24 or recent["total"] < django_settings.ALERT_ERROR_RATE_MIN_ATTEMPTS:
        return False, ""
    rate = recent["failed"] / recent["total"]
    mid, scale = _scale(past, 0.02)
    z = (rate - mid) / scale
    return z >= threshold, (f"{recent['failed']} of {recent['total']} attempts failed in the last hour ({rate:.0%}); "
                            f"this connection usually fails {mid:.0%} of an hour's attempts (past {BASELINE_DAYS} days, "
                            f"{len(past)} hours)")


def _p95(values: list[int]) -> int:
    ordered = sorted(values)
    return ordered[int(0.95 * (len(ordered) - 1))]


def latency_spike(connection: Connection, now, threshold: float) -> tuple[bool, str]:
    last_hour = now - timedelta(hours=1)
    recent, hours = [], defaultdict(list)
    for at, ms in (CallLog.objects.filter(connection=connection, created_at__gte=now - timedelta(days=BASELINE_DAYS),
                                          created_at__lt=now)
                   .order_by("-created_at").values_list("created_at", "duration_ms")[:50_000]):
        if at >= last_hour:
            recent.append(ms)
        else:
            hours[at.replace(minute=0, second=0, microsecond=0)].append(ms)
    p95s = [_p95(v) for v in hours.values() if len(v) >= 5]
    if len(p95s) < 24 or len(recent) < django_settings.ALERT_ERROR_RATE_MIN_ATTEMPTS:
        return False, ""
    p95, usual = _p95(recent), median(p95s)
    ratio = p95 / usual if usual else 0.0
    return ratio >= threshold, (f"p95 {p95:,} ms in the last hour, {ratio:.1f}× this connection's usual hourly "
                                f"p95 of {usual:,.0f} ms (past {BASELINE_DAYS} days)")


def suddenly_silent(connection: Connection, now, hours: float) -> tuple[bool, str]:
    quiet_since = now - timedelta(hours=hours)
    exported = ExportRecord.objects.filter(connection=connection, status=Status.EXPORTED)
    if exported.filter(exported_at__gte=quiet_since).exists():
        return False, ""
    days = {d.date() for d in exported.filter(exported_at__gte=quiet_since - timedelta(days=14),
                                               exported_at__lt=quiet_since).values_list("exported_at", flat=True)
            if d is not None}
    if len(days) < 10:
        return False, ""
    return True, (f"Nothing exported for {hours:.0f} h, though this connection exported on {len(days)} of the "
                  "previous 14 days. Check that Expensico still sends approvals and that the workers run.")


CHECKS = {"sync_error_rate": (error_rate_spike, ERROR_SPIKE), "sync_latency": (latency_spike, LATENCY_SPIKE),
          "sync_silence": (suddenly_silent, SILENT)}


@scan_register
def sync_anomalies_scan(now) -> int:
    """Called by the alerts scan; each anomaly (and categoriser drift) alerts once while it lasts."""

    raised = 0
    for connection in Connection.objects.select_related("organization"):
        switches = _switches(connection.organization_id)
        label = f"{connection.name} ({connection.organization.name})"
        link = reverse("admin:connectors_connection_change", args=[connection.pk])
        for key, (check, kind) in CHECKS.items():
            enabled, threshold = switches[key]
            active, text = check(connection, now, threshold) if enabled else (False, "")
            raised += _raise(f"{key}:{connection.pk}", active, kind.key, connection=connection,
                             organization_id=connection.organization_id,
                             subject=f"{label}: {kind.label.lower()}", text=text, link=link)
        drift = drift_of(connection)
        raised += _raise(f"categoriser_drift:{connection.pk}", bool(drift), DRIFT.key, connection=connection,
                         organization_id=connection.organization_id,
                         subject=f"{label}: categoriser accuracy dropped", text=drift,
                         link=reverse("admin:mappings_categorisermodel_changelist"))
    return raised
