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


def test_failure_rate_counts_vendor_failures_not_holds():
    org = make_org()
    record = make_record(org)
    _attempt(record, ExportAttempt.Outcome.EXPORTED)
    _attempt(record, ExportAttempt.Outcome.RETRY, "Transient")
    _attempt(record, ExportAttempt.Outcome.NEEDS_REVIEW, "Permanent")  # the vendor refused it
    _attempt(record, ExportAttempt.Outcome.NEEDS_REVIEW)                # a hold: nothing was sent
    panel = exports_panel(RequestFactory().get("/admin/"), [org.pk])
    rate = next(k for k in panel["kpis"] if k["title"] == "Failure rate (24 h)")
    assert rate["value"] == "66.7%" and rate["footer"] == "2 of 3 vendor attempts failed: 1 retried, 1 parked for review"


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
