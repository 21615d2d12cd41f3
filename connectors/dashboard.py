"""Dashboard panel: connection health, open breakers and vendor call volume (last 24 hours)."""

import json
from datetime import timedelta

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from expensico_sync.core.dashboard import register_panel

from .models import CallLog, Connection
from .registry import system_label


@register_panel
def connections_panel(request, org_ids):
    conns = Connection.objects.filter(organization_id__in=org_ids)
    if not conns.exists():
        return {}
    now = timezone.now()
    connected = conns.filter(status=Connection.Status.CONNECTED).count()
    open_breakers = conns.filter(paused_until__gt=now).count()
    since = now - timedelta(hours=24)
    calls = CallLog.objects.filter(connection__organization_id__in=org_ids, created_at__gte=since)
    totals = calls.aggregate(n=Count("id"), failed=Count("id", filter=~Q(error_class="")))
    per_system = list(calls.values("connection__system").annotate(ok=Count("id", filter=Q(error_class="")),
                                                                   failed=Count("id", filter=~Q(error_class="")))
                      .order_by("connection__system"))
    changelist = reverse("admin:connectors_connection_changelist")
    return {
        "kpis": [
            {"title": _("Connections"), "value": f"{connected}/{conns.count()}", "footer": _("connected"),
             "href": changelist},
            {"title": _("Open circuit breakers"), "value": open_breakers,
             "footer": _("connections paused after repeated failures"), "href": changelist},
            {"title": _("Vendor calls (24h)"), "value": totals["n"], "footer": _("%(count)s failed") % {"count": totals["failed"]},
             "href": reverse("admin:connectors_calllog_changelist")},
        ],
        "charts": [{"title": _("Vendor calls by system (24h)"), "type": "bar", "data": json.dumps({
            "labels": [system_label(r["connection__system"]) for r in per_system],
            "datasets": [{"label": _("ok"), "data": [r["ok"] for r in per_system]},
                         {"label": _("failed"), "data": [r["failed"] for r in per_system]}],
        })}] if per_system else [],
    }
