"""Retention policy for the vendor call log (the daily prune keeps CALL_LOG_RETENTION_DAYS as before;
an organisation may keep it shorter)."""

from expensico_sync.retention.registry import DELETE, register_policy

from .models import CallLog


def _rows(organization, cutoff):
    return CallLog.objects.filter(connection__organization=organization, created_at__lt=cutoff)


register_policy("connectors.call_log", "Vendor call log", action=DELETE, default_months=2, rows=_rows,
                apply=lambda qs: CallLog.objects.filter(pk__in=qs.values("pk")).delete()[0],
                keeps="nothing: export attempts keep the vendor's ids and outcomes")
