"""The first dashboard for a set of organisations is computed by the worker, not in the request
(about a second of aggregation over every row): the page says so and reloads itself until it is
there, and computes it itself only when no worker has answered after a few reloads."""

import pytest
from django.urls import reverse

from expensico_sync.core.dashboard import DASHBOARD_WAIT_RELOADS
from expensico_sync.core.tasks import dashboard_refresh_task
from tests.core.factories import make_org

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued(monkeypatch):
    """Tasks the page queues, held back (no worker runs them until the test does)."""
    held: list[tuple] = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda *args, **kwargs: held.append(args))
    return held


def test_a_cold_dashboard_waits_for_the_worker_and_then_shows(admin_client, queued):
    make_org("cold-one")
    url = reverse("admin:index")
    response = admin_client.get(url)
    page = response.content.decode()
    assert 'data-test="dashboard-computing"' in page and "window.location.replace(" in page
    assert response.context["dashboard_reload"] == f"{url}?computing=1"
    assert "kpis" not in response.context
    assert [args[0] for args in queued] == ["expensico_sync.core.tasks.dashboard_refresh_task"]

    admin_client.get(url, {"computing": 1})
    assert len(queued) == 1  # a reload does not queue the same work again

    dashboard_refresh_task(*queued[0][1:])  # the worker's turn
    response = admin_client.get(url, {"computing": 2})
    assert 'data-test="dashboard-computing"' not in response.content.decode()
    assert response.context["kpis"][0]["value"] == 1  # Organisations


def test_without_a_worker_the_page_computes_it_after_a_few_reloads(admin_client, queued):
    make_org("cold-two")
    response = admin_client.get(reverse("admin:index"), {"computing": DASHBOARD_WAIT_RELOADS})
    assert 'data-test="dashboard-computing"' not in response.content.decode()
    assert response.context["kpis"][0]["value"] == 1
    assert queued == []
