"""Dashboard panel: Xledger requests this month per connection, against the included allowance."""

from django.urls import reverse

from expensico_sync.core.dashboard import register_panel

from .selectors import INCLUDED_REQUESTS, monthly_usage


@register_panel
def xledger_usage_panel(request, org_ids):
    usage = monthly_usage(org_ids)
    if not usage:
        return {}
    calls = reverse("admin:connectors_calllog_changelist")
    return {"kpis": [{
        "title": f"Xledger requests this month · {row['connection'].name}",
        "value": f"{row['requests']:,} / {INCLUDED_REQUESTS:,}",
        "footer": (f"{row['billable']:,} billable (≈ £{row['cost']:.2f})" if row["billable"]
                   else f"{INCLUDED_REQUESTS - row['requests']:,} left in the allowance"),
        "href": f"{calls}?connection__id__exact={row['connection'].pk}",
    } for row in usage], "charts": [], "tables": []}
