"""The admin index: KPI cards and charts. Apps contribute panels with `register_panel`."""

from collections.abc import Callable

from .models import Membership, Organization
from .selectors import organizations_for

Panel = Callable[[object, list[int]], dict]
_panels: list[Panel] = []


def register_panel(panel: Panel) -> Panel:
    """A panel returns {"kpis": [...], "charts": [...], "tables": [...]} for the user's organisations."""
    _panels.append(panel)
    return panel


@register_panel
def setup_panel(request, org_ids):
    orgs = Organization.objects.filter(pk__in=org_ids)
    modes = {m.label.split(" (")[0]: orgs.filter(mode=m.value).count() for m in Organization.Mode}
    return {
        "kpis": [
            {"title": "Organisations", "value": orgs.count(),
             "footer": ", ".join(f"{n} {k.lower()}" for k, n in modes.items() if n) or "none yet"},
            {"title": "Members", "value": Membership.objects.filter(organization__in=org_ids).count(),
             "footer": "people with a role"},
        ],
    }


def dashboard_callback(request, context):
    org_ids = list(organizations_for(request.user).values_list("pk", flat=True))
    merged = {"kpis": [], "charts": [], "tables": []}
    for panel in _panels:
        part = panel(request, org_ids) or {}
        for key in merged:
            merged[key].extend(part.get(key, []))
    context.update(merged)
    return context
