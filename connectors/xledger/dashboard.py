"""Dashboard panel: Xledger requests this month per connection, against the included allowance."""

from django.urls import reverse
from django.utils.translation import gettext as _

from expensico_sync.core.dashboard import register_panel

from .selectors import INCLUDED_REQUESTS, monthly_usage


@register_panel
def xledger_usage_panel(request, org_ids):
    usage = monthly_usage(org_ids)
    if not usage:
        return {}
    calls = reverse("admin:connectors_calllog_changelist")
    return {"kpis": [{
        "title": _("Xledger requests this month · %(name)s") % {"name": row["connection"].name},
        "value": f"{row['requests']:,} / {INCLUDED_REQUESTS:,}",
        "footer": (_("%(billable)s billable (≈ £%(cost)s)") % {"billable": f"{row['billable']:,}", "cost": f"{row['cost']:.2f}"}
                   if row["billable"] else _("%(left)s left in the allowance") % {
                       "left": f"{INCLUDED_REQUESTS - row['requests']:,}"}),
        "href": f"{calls}?connection__id__exact={row['connection'].pk}",
    } for row in usage], "charts": [], "tables": []}
