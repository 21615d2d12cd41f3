"""Dashboard panel: what the mappings are blocking, per connection."""

import hashlib
import json

from django.core.cache import cache
from django.urls import reverse

from expensico_sync.core.dashboard import register_panel


def cached_gaps(connection) -> list[dict]:
    """Gap rows, cached for a minute: the dashboard is opened far more often than mappings change."""
    from django.apps import apps
    from django.db.models import Count, Max

    from .selectors import mapping_gaps, mapping_version

    # Keyed on everything that changes the answer: the mappings and the expenses.
    expenses = apps.get_model("source", "Expense").objects.filter(organization_id=connection.organization_id)
    seen = expenses.aggregate(n=Count("pk"), last=Max("updated_at"))
    state = f"{connection.organization_id}|{mapping_version(connection)}|{seen['n']}|{seen['last']}"
    key = f"mappings:gaps:{connection.pk}:{hashlib.sha256(state.encode()).hexdigest()[:24]}"
    rows = cache.get(key)
    if rows is None:
        rows = mapping_gaps(connection)
        cache.set(key, rows, 60)
    return rows


@register_panel
def mapping_gaps_panel(request, org_ids):
    from .models import MappingSet

    sets = list(MappingSet.objects.filter(organization_id__in=org_ids).select_related("organization"))
    if not sets:
        return {}
    per_set = [(s, cached_gaps(s)) for s in sets]
    open_gaps = sum(len(rows) for _, rows in per_set)
    blocked = sum(r["expenses"] for _, rows in per_set for r in rows)
    link = reverse("admin:mappings_mappingset_changelist")
    chart = {"labels": [s.name for s, _ in per_set],
             "datasets": [{"label": "Expenses blocked by a missing mapping",
                           "data": [sum(r["expenses"] for r in rows) for _, rows in per_set]}]}
    return {
        "kpis": [
            {"title": "Missing mappings", "value": open_gaps, "href": link,
             "footer": f"across {len(sets)} connection{'s' if len(sets) != 1 else ''}"},
            {"title": "Expenses blocked by mappings", "value": blocked, "href": link,
             "footer": "re-queued automatically once mapped"},
        ],
        "charts": [{"title": "Blocked expenses per connection", "type": "bar", "data": json.dumps(chart)}],
    }
