"""The open month's live checklist and the value metrics are read from a stored computation with
its "as of" time: pages and the API never compute them per request; a scheduled task and an
on-demand refresh do."""

from datetime import date, timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from expensico_sync.core.roles import Role
from exports.models import MonthClose
from exports.snapshots import services
from exports.snapshots.models import Snapshot
from exports.snapshots.tasks import open_months, snapshots_refresh_open_months
from tests.core.factories import make_member

from .test_close_api import LIST, client_as

pytestmark = pytest.mark.django_db
NOV = date(2026, 11, 1)


@pytest.fixture
def counted(monkeypatch):
    """Counts computations of each kind (the real ones still run)."""
    calls: dict[str, int] = {}
    for kind, compute in list(services._kinds.items()):
        def wrapped(organization, period, _kind=kind, _compute=compute):
            calls[_kind] = calls.get(_kind, 0) + 1
            return _compute(organization, period)
        monkeypatch.setitem(services._kinds, kind, wrapped)
    return calls


def month_page(client, org):
    return client.get(reverse("admin:exports_monthclose_month", args=[org.pk, "2026-11"]))


def test_the_month_page_reads_the_stored_checklist_and_shows_as_of(client, org, conn, counted):
    client.force_login(make_member(org, role=Role.FINANCE_ADMIN))
    first = month_page(client, org)                      # nothing stored: one computation queued (inline here)
    assert counted == {"checklist": 1}
    stored = Snapshot.objects.get(kind="checklist", organization=org, period=NOV)
    for _ in range(3):
        page = month_page(client, org).content.decode()
    assert counted == {"checklist": 1}                   # the page reads; it does not compute
    assert f"As of <strong>{timezone.localtime(stored.computed_at):%H:%M}</strong>" in page
    assert first.status_code == 200 and "Refresh" in page


def test_refresh_computes_again_and_a_stale_result_queues_one_refresh(client, org, conn, counted):
    client.force_login(make_member(org, role=Role.FINANCE_ADMIN))
    month_page(client, org)
    client.post(reverse("admin:exports_monthclose_refresh", args=[org.pk, "2026-11"]))
    assert counted == {"checklist": 2}
    old = timezone.now() - timedelta(seconds=services.STALE_SECONDS + 1)
    Snapshot.objects.update(computed_at=old, requested_at=old)
    cache.clear()                                        # a minute later: the GET's dedupe has expired
    month_page(client, org)
    month_page(client, org)
    assert counted == {"checklist": 3}


def test_a_viewer_pressing_refresh_again_and_again_queues_one_computation_a_minute(client, org, conn, counted):
    """Only those who sign the month off may force a refresh; a viewer's presses keep the once-a-minute limit."""
    client.force_login(make_member(org, role=Role.VIEWER))
    month_page(client, org)
    for _ in range(3):
        client.post(reverse("admin:exports_monthclose_refresh", args=[org.pk, "2026-11"]))
    assert counted == {"checklist": 2}


def test_a_signed_month_shows_the_checklist_stored_at_sign_off(client, org, conn, counted):
    MonthClose.objects.create(organization=org, period=NOV, status="signed_off", signed_off_at=timezone.now(),
                              checklist=[{"key": "k", "label": "Signed item", "ok": True, "summary": "fine",
                                          "count": 0, "url": "", "details": []}])
    client.force_login(make_member(org, role=Role.FINANCE_ADMIN))
    assert "Signed item" in month_page(client, org).content.decode()
    assert counted == {} and not Snapshot.objects.exists()


def test_the_close_api_serves_the_stored_checklist_with_its_time(client, org, conn, counted):
    close = MonthClose.objects.create(organization=org, period=NOV)
    api = client_as(client, org, Role.VIEWER)
    body = api.get(f"{LIST}/{close.pk}").json()
    api.get(f"{LIST}/{close.pk}")
    assert counted == {"checklist": 1}
    assert body["checklist"] and body["checklist_as_of"]


def test_metrics_api_reads_the_stored_figures_and_refreshes_on_request(client, org, conn, counted):
    api = client_as(client, org, Role.VIEWER)
    body = api.get(f"/api/v1/metrics/{org.pk}", {"period": "2026-11"}).json()
    api.get(f"/api/v1/metrics/{org.pk}", {"period": "2026-11"})
    api.get("/api/v1/metrics", {"period": "2026-11"})
    assert counted == {"metrics": 1}
    assert body["as_of"] and body["systems"] == {} and body["period"] == "2026-11"
    assert api.post(f"/api/v1/metrics/{org.pk}/refresh?period=2026-11").status_code == 403   # viewers read
    api = client_as(client, org, Role.FINANCE_ADMIN)
    refreshed = api.post(f"/api/v1/metrics/{org.pk}/refresh?period=2026-11")
    assert refreshed.status_code == 202 and refreshed.json()["refresh_requested_at"]
    assert counted == {"metrics": 2}
    api.post(f"/api/v1/metrics/{org.pk}/refresh?period=2026-11")
    assert counted == {"metrics": 2}                     # within the minute: not queued again
    Snapshot.objects.update(requested_at=None)
    api.post(f"/api/v1/metrics/{org.pk}/refresh?period=2026-11")
    assert counted == {"metrics": 3}


def test_before_the_first_computation_the_figures_are_null(client, org, conn, monkeypatch):
    monkeypatch.setattr(services, "async_task", lambda *args, **kwargs: None)   # a worker that has not run yet
    body = client_as(client, org, Role.VIEWER).get(f"/api/v1/metrics/{org.pk}", {"period": "2026-11"}).json()
    assert body["as_of"] is None and body["systems"] is None and body["vendor_requests"] is None


def test_the_schedule_refreshes_open_months_but_not_a_signed_checklist(org, conn, counted):
    today = date(2026, 12, 6)
    MonthClose.objects.create(organization=org, period=NOV, status="signed_off")
    assert open_months(org, today) == [date(2026, 12, 1)]
    assert snapshots_refresh_open_months(today) == 2          # one task each; inline in tests
    assert counted == {"checklist": 1, "metrics": 1}
    assert set(Snapshot.objects.values_list("kind", "period")) == {("checklist", date(2026, 12, 1)),
                                                                   ("metrics", date(2026, 12, 1))}


def test_lazy_labels_and_dates_are_stored(org, conn):
    from django.utils.translation import gettext_lazy

    from exports.close import registry

    @registry.checklist_item("test_lazy", gettext_lazy("A translated label"), order=999)
    def compute(organization, period):
        return registry.ItemResult(ok=True, summary=gettext_lazy("fine"))

    try:
        stored = services.snapshot_refresh(kind="checklist", organization=org, period=NOV)
    finally:
        registry._items.pop("test_lazy")
    stored.refresh_from_db()
    assert {"label": "A translated label", "summary": "fine"}.items() <= stored.payload[-1].items()
