"""The admin index: KPI cards and charts. Apps contribute panels with `register_panel`."""

import hashlib
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.core.cache import cache
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext_lazy

from .models import Membership, Organization
from .selectors import organizations_for

Panel = Callable[[object, list[int]], dict]
DASHBOARD_FRESH_SECONDS = 60
DASHBOARD_KEEP_SECONDS = 3600
# A page waiting for its first dashboard reloads every DASHBOARD_WAIT_SECONDS; after this many
# reloads (no worker took the task) the request computes it itself.
DASHBOARD_WAIT_SECONDS = 2
DASHBOARD_WAIT_RELOADS = 5
_panels: list[Panel] = []


def register_panel(panel: Panel) -> Panel:
    """A panel returns {"kpis": [...], "charts": [...], "tables": [...]} for the user's organisations.
    It is called outside any request (a background refresh): the request argument is None."""
    _panels.append(panel)
    return panel


def chart_options(*, x_title: str, y_title: str, stacked: bool = True) -> str:
    """Chart.js options (Unfold's chart components) with titled axes, a legend, whole-number ticks
    and bars a person can read; replaces Unfold's defaults, which hide the legend and axis titles."""
    axis: dict[str, Any] = {"grid": {"display": True, "color": "rgba(148, 163, 184, 0.2)"}, "stacked": stacked}
    return json.dumps({
        "plugins": {"legend": {"display": True, "position": "bottom",
                               "labels": {"boxWidth": 12, "boxHeight": 12, "usePointStyle": False}},
                    "tooltip": {"enabled": True, "mode": "index", "intersect": False}},
        "datasets": {"bar": {"maxBarThickness": 36, "borderRadius": 3}},
        "scales": {"x": {**axis, "grid": {**axis["grid"], "display": False}, "title": {"display": True, "text": x_title}},
                   "y": {**axis, "beginAtZero": True, "ticks": {"precision": 0},
                         "title": {"display": True, "text": y_title}}},
    })


# Organisations per mode, in the language's plural forms (Arabic has six).
MODE_COUNTS = {
    Organization.Mode.DRY_RUN: ngettext_lazy("%(count)s in dry run", "%(count)s in dry run", "count"),
    Organization.Mode.PILOT: ngettext_lazy("%(count)s in pilot", "%(count)s in pilot", "count"),
    Organization.Mode.LIVE: ngettext_lazy("%(count)s live", "%(count)s live", "count"),
    Organization.Mode.PAUSED: ngettext_lazy("%(count)s paused", "%(count)s paused", "count"),
}


@register_panel
def setup_panel(request, org_ids):
    orgs = Organization.objects.filter(pk__in=org_ids)
    modes = {m.value: orgs.filter(mode=m.value).count() for m in Organization.Mode}
    return {
        "kpis": [
            {"title": _("Organisations"), "value": orgs.count(),
             "footer": ", ".join(MODE_COUNTS[k] % {"count": n} for k, n in modes.items() if n) or _("none yet")},
            {"title": _("Members"), "value": Membership.objects.filter(organization__in=org_ids).count(),
             "footer": _("people with a role")},
        ],
    }


def dashboard_compute(*, org_ids: list[int]) -> dict:
    merged: dict[str, list] = {"kpis": [], "charts": [], "tables": []}
    for panel in _panels:
        part = panel(None, org_ids) or {}
        for key in merged:
            merged[key].extend(part.get(key, []))
    return merged


def _key(org_ids: list[int], language: str) -> str:
    """One cached dashboard per organisation set and language: the panels' words are translated."""
    digest = hashlib.sha256(",".join(map(str, sorted(org_ids))).encode()).hexdigest()[:24]
    return f"dashboard:{language}:{digest}"


def dashboard_refresh(*, org_ids: list[int], language: str | None = None) -> dict:
    language = language or translation.get_language() or "en-gb"
    with translation.override(language):
        merged = dashboard_compute(org_ids=org_ids)
    cache.set(_key(org_ids, language), {"at": time.time(), "panels": merged}, DASHBOARD_KEEP_SECONDS)
    return merged


def _refresh_later(key: str, org_ids: list[int], language: str) -> None:
    if cache.add(key + ":refreshing", 1, DASHBOARD_FRESH_SECONDS):
        from django_q.tasks import async_task

        async_task("expensico_sync.core.tasks.dashboard_refresh_task", org_ids, language)


def _waited(request) -> int:
    try:
        return max(0, int(request.GET.get("computing", "0")))
    except ValueError:
        return 0


def _reload_url(request, waited: int) -> str:
    query = request.GET.copy()
    query["computing"] = str(waited)
    return f"{request.path}?{query.urlencode()}"


def _with_org(href: str, org_id: int) -> str:
    return f"{href}{'&' if '?' in href else '?'}{urlencode({'org': org_id})}"


def dashboard_callback(request, context):
    """The panels aggregate over every row of the organisations shown: served from a cache that a
    background task refreshes once it is older than DASHBOARD_FRESH_SECONDS, never per request.
    The organisation switcher (`?org=`) narrows the dashboard to one organisation, and every card
    then links to its list filtered to that organisation."""
    from .admin.scoping import access_of

    if request.user.is_superuser:
        visible = list(organizations_for(request.user).order_by("name").values_list("pk", "name"))
    else:
        ids = access_of(request).org_ids
        visible = list(Organization.objects.filter(pk__in=ids).order_by("name").values_list("pk", "name"))
    chosen = request.GET.get("org", "")
    chosen_id = next((pk for pk, _ in visible if str(pk) == chosen), None)
    org_ids = [chosen_id] if chosen_id is not None else sorted(pk for pk, _ in visible)
    language = translation.get_language() or "en-gb"
    key = _key(org_ids, language)
    hit = cache.get(key)
    waited = _waited(request)
    if hit is None and waited < DASHBOARD_WAIT_RELOADS:
        # Never computed (or expired): the worker computes it (about a second of aggregation
        # over every row) and the page reloads itself until it is there. A synchronous queue
        # (tests, Q_SYNC) has filled the cache by the time the task call returns.
        _refresh_later(key, org_ids, language)
        hit = cache.get(key)
        if hit is None:
            context.update({"dashboard_computing": True, "dashboard_reload": _reload_url(request, waited + 1),
                            "dashboard_wait_ms": DASHBOARD_WAIT_SECONDS * 1000,
                            "dashboard_orgs": visible if len(visible) > 1 else [], "dashboard_org": chosen_id})
            return context
    if hit is None:  # no worker answered in time: compute it here rather than never
        merged = dashboard_refresh(org_ids=org_ids, language=language)
    else:
        merged = hit["panels"]
        if time.time() - hit["at"] > DASHBOARD_FRESH_SECONDS:
            _refresh_later(key, org_ids, language)
    if chosen_id is not None:
        merged = {**merged, "kpis": [{**k, "href": _with_org(k["href"], chosen_id)} if k.get("href") else k
                                     for k in merged["kpis"]]}
    context.update(merged)
    context.update({"dashboard_orgs": visible if len(visible) > 1 else [], "dashboard_org": chosen_id})
    return context
