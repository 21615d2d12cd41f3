import pytest
from django.test import RequestFactory
from django.utils import timezone

from exports.dashboard import exports_panel
from exports.models import ExportAttempt
from tests.core.factories import make_org

from .factories import make_record

pytestmark = pytest.mark.django_db


def _attempt(record, outcome, error_class=""):
    now = timezone.now()
    return ExportAttempt.objects.create(record=record, number=record.export_attempts.count() + 1, started_at=now,
                                        finished_at=now, outcome=outcome, error_class=error_class)


def test_the_call_card_and_the_failure_rate_card_share_one_definition_and_window():
    """The data that used to disagree: export attempts that failed (retried, parked) while the call
    log had no failed call in its window read "0 failed" beside "66.7 %"; an old failure sat outside."""
    from datetime import timedelta

    from connectors.dashboard import connections_panel
    from connectors.models import CallLog
    from tests.connectors.factories import make_connection

    org = make_org()
    record = make_record(org)
    _attempt(record, ExportAttempt.Outcome.EXPORTED)
    _attempt(record, ExportAttempt.Outcome.RETRY, "Transient")
    _attempt(record, ExportAttempt.Outcome.NEEDS_REVIEW, "Permanent")
    conn = make_connection(org)
    now = timezone.now()
    for _ in range(3):
        CallLog.objects.create(connection=conn, method="POST", path="/v1/expenses", status=201)
    CallLog.objects.create(connection=conn, method="POST", path="/v1/expenses", status=422, error_class="Permanent")
    CallLog.objects.create(connection=conn, method="POST", path="/v1/expenses", status=503, error_class="Transient",
                           created_at=now - timedelta(hours=30))   # outside the window for both cards
    calls = next(k for k in connections_panel(None, [org.pk])["kpis"] if k["title"] == "Vendor calls (24 h)")
    rate = next(k for k in exports_panel(RequestFactory().get("/admin/"), [org.pk])["kpis"]
                if k["title"] == "Failure rate (24 h)")
    assert calls["value"] == 4 and calls["footer"].startswith("1 failed (25.0%) · 24 h to ")
    assert rate["value"] == "25.0%" and rate["footer"].startswith("1 of 4 vendor calls failed · 24 h to ")
    assert calls["footer"].split(" · ")[1] == rate["footer"].split(" · ")[1]      # the same window, stated
    assert calls["help"] == rate["help"] and "did not answer" in rate["help"]     # the same definition, stated


def test_the_dashboard_shows_one_organisation_and_its_cards_link_to_its_filtered_lists(admin_client):
    import json as _json

    from django.urls import reverse

    from tests.core.factories import make_org

    first, second = make_org("dash-one"), make_org("dash-two")
    page = admin_client.get(reverse("admin:index")).content.decode()
    assert 'id="dashboard-org"' in page and "dash-one" in page.lower() and "dash-two" in page.lower()
    response = admin_client.get(reverse("admin:index"), {"org": second.pk})
    page = response.content.decode()
    assert f'<option value="{second.pk}" selected>' in page
    review_link = reverse("admin:exports_reviewitem_changelist") + f"?org={second.pk}"
    assert review_link in page  # the card opens the list of that organisation only
    assert response.context["kpis"][0]["value"] == 1  # Organisations: just the one chosen
    charts = response.context["charts"]
    assert charts and all(_json.loads(c["options"])["scales"]["y"]["title"]["display"] for c in charts)
    assert all(_json.loads(c["options"])["plugins"]["legend"]["display"] for c in charts)
    assert admin_client.get(review_link).status_code == 200
    assert first.pk != second.pk


def test_a_month_without_documents_says_so_and_each_value_card_names_its_month(admin_client):
    """The demo's documents are dated in another month: the value chart was an empty grid, and "Time
    saved 0.0 h" sat beside "154 exported today" without saying which month it counted."""
    from django.urls import reverse

    org = make_org("dash-empty")
    page = admin_client.get(reverse("admin:index"), {"org": org.pk}).content.decode()
    assert 'data-test="chart-empty"' in page and "No documents dated" in page
    assert "No export records in the last 14 days." in page and "No expense waits for a mapping." not in page
    assert "Time saved (" in page and "Billed vendor requests (" in page
    assert '<span dir="auto">0.0 h</span>' in page
