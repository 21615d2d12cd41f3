"""Dashboard panel: what the mappings are blocking, per connection."""

import json
import time

from django.core.cache import cache
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from expensico_sync.core.dashboard import chart_options, register_panel

GAPS_FRESH_SECONDS = 60


def _gaps_key(connection) -> str:
    return f"mappings:gaps:{connection.pk}"


# A gap such as "setting Employee Claims" closes when the account is chosen on the connection, which
# moves no mapping version: the setup page said it was missing right under the step that had saved it.
ACCOUNT_FIELDS = ("employee_claims_account", "employees_balance_account", "funding_bank_account")


def _version(connection, version: str | None = None) -> str:
    """The mapping version and the connection's three accounts the gap rows were computed at."""
    from .selectors import mapping_version

    accounts = "|".join(getattr(connection, name, "") or "" for name in ACCOUNT_FIELDS)
    return f"{version or mapping_version(connection)}|{accounts}"


def gaps_refresh(connection) -> list[dict]:
    """Computes the gap rows and caches them with the version they were computed at."""
    from .selectors import mapping_gaps

    version = _version(connection)
    rows = mapping_gaps(connection)
    cache.set(_gaps_key(connection), {"version": version, "at": time.time(), "rows": rows}, 24 * 3600)
    return rows


def cached_gaps(connection, *, version: str | None = None) -> list[dict]:
    """Gap rows: recomputed at once when a mapping changed; otherwise served from the cache and, once
    older than a minute, refreshed in the background. Finding gaps reads every open expense of the
    organisation, far too slow for a page at a million expenses; new expenses show up within a
    minute or two. `version`: the set's mapping_version when the caller has it already."""
    hit = cache.get(_gaps_key(connection))
    if hit is None or hit["version"] != _version(connection, version):
        return gaps_refresh(connection)
    if time.time() - hit["at"] > GAPS_FRESH_SECONDS and cache.add(_gaps_key(connection) + ":refreshing", 1,
                                                                   GAPS_FRESH_SECONDS):
        from django_q.tasks import async_task

        async_task("mappings.tasks.gaps_refresh_task", connection.pk)
    return hit["rows"]


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
             "datasets": [{"label": _("Expenses blocked by a missing mapping"), "backgroundColor": "#f59e0b",
                           "data": [sum(r["expenses"] for r in rows) for _, rows in per_set]}]}
    return {
        "kpis": [
            {"title": _("Missing mappings"), "value": open_gaps, "href": link,
             "footer": ngettext("across %(count)s connection", "across %(count)s connections", len(sets)) % {
                 "count": len(sets)}},
            {"title": _("Expenses blocked by mappings"), "value": blocked, "href": link,
             "footer": _("re-queued automatically once mapped")},
        ],
        "charts": [{"title": _("Blocked expenses per connection"), "type": "bar", "data": json.dumps(chart),
                    "empty": "" if blocked else _("No expense waits for a mapping."),
                    "options": chart_options(x_title=_("Connection"), y_title=_("Expenses blocked"), stacked=False)}],
    }
