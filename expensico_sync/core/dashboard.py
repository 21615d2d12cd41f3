"""The admin index: KPI cards and charts. Apps contribute panels with `register_panel`."""

import hashlib
import time
from collections.abc import Callable

from django.core.cache import cache

from .models import Membership, Organization
from .selectors import organizations_for

Panel = Callable[[object, list[int]], dict]
DASHBOARD_FRESH_SECONDS = 60
DASHBOARD_KEEP_SECONDS = 3600
_panels: list[Panel] = []


def register_panel(panel: Panel) -> Panel:
    """A panel returns {"kpis": [...], "charts": [...], "tables": [...]} for the user's organisations.
    It is called outside any request (a background refresh): the request argument is None."""
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


def dashboard_compute(*, org_ids: list[int]) -> dict:
    merged: dict[str, list] = {"kpis": [], "charts": [], "tables": []}
    for panel in _panels:
        part = panel(None, org_ids) or {}
        for key in merged:
            merged[key].extend(part.get(key, []))
    return merged


def _key(org_ids: list[int]) -> str:
    return "dashboard:" + hashlib.sha256(",".join(map(str, sorted(org_ids))).encode()).hexdigest()[:24]


def dashboard_refresh(*, org_ids: list[int]) -> dict:
    merged = dashboard_compute(org_ids=org_ids)
    cache.set(_key(org_ids), {"at": time.time(), "panels": merged}, DASHBOARD_KEEP_SECONDS)
    return merged


def dashboard_callback(request, context):
    """The panels aggregate over every row of the user's organisations: served from a cache that a
    background task refreshes once it is older than DASHBOARD_FRESH_SECONDS, never per request."""
    from .admin.scoping import access_of

    if request.user.is_superuser:
        org_ids = sorted(organizations_for(request.user).values_list("pk", flat=True))
    else:
        org_ids = sorted(access_of(request).org_ids)
    hit = cache.get(_key(org_ids))
    if hit is None:
        merged = dashboard_refresh(org_ids=org_ids)
    else:
        merged = hit["panels"]
        if time.time() - hit["at"] > DASHBOARD_FRESH_SECONDS and cache.add(_key(org_ids) + ":refreshing", 1,
                                                                            DASHBOARD_FRESH_SECONDS):
            from django_q.tasks import async_task

            async_task("expensico_sync.core.tasks.dashboard_refresh_task", org_ids)
    context.update(merged)
    return context
