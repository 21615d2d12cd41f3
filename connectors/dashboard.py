"""Dashboard panel: connection health, open breakers and vendor call volume (last 24 hours; the
same rows and definition as the failure-rate card: connectors.selectors.vendor_call_health)."""

import json

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from expensico_sync.core.dashboard import chart_options, register_panel

from .models import Connection
from .registry import system_label
from .selectors import FAILED_CALL_WORDS, vendor_call_health, vendor_calls_window


@register_panel
def connections_panel(request, org_ids):
    conns = Connection.objects.filter(organization_id__in=org_ids)
    if not conns.exists():
        return {}
    now = timezone.now()
    connected = conns.filter(status=Connection.Status.CONNECTED).count()
    open_breakers = conns.filter(paused_until__gt=now).count()
    calls, _until = vendor_calls_window(org_ids=org_ids, now=now)
    health = vendor_call_health(org_ids=org_ids, now=now)
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
            {"title": _("Vendor calls (24 h)"), "value": health.total,
             "footer": _("%(failed)s failed (%(rate)s) · %(window)s") % {
                 "failed": health.failed, "rate": health.rate_text, "window": health.window_text},
             "help": FAILED_CALL_WORDS, "href": reverse("admin:connectors_calllog_changelist")},
        ],
        "charts": [{"title": _("Vendor calls by system (%(window)s)") % {"window": health.window_text}, "type": "bar",
                    "options": chart_options(x_title=_("Accounting system"), y_title=_("Vendor calls")),
                    "data": json.dumps({
            "labels": [str(system_label(r["connection__system"])) for r in per_system],
            "datasets": [{"label": _("Succeeded"), "backgroundColor": "#16a34a", "data": [r["ok"] for r in per_system]},
                         {"label": _("Failed"), "backgroundColor": "#dc2626", "data": [r["failed"] for r in per_system]}],
        })}] if per_system else [],
    }
