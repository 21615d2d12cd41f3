import pytest
from django.urls import reverse

from expensico_sync.core.roles import Role
from expensico_sync.source.models import Expense, PullSync, WebhookDelivery
from expensico_sync.source.simulator.generator import generate
from expensico_sync.source.simulator.server import serve_in_thread
from tests.conftest import admin_confirm
from tests.core.factories import make_member
from tests.source.factories import expense_payload, report_payload
from tests.source.helpers import approved, post_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(org):
    return make_member(org, Role.OWNER, "owner")


@pytest.fixture
def mirrored(client, org):
    post_event(client, org, approved(report_payload(1, expenses=[
        expense_payload(1, merchant="Jarir Bookstore"), expense_payload(2, merchant="Careem", currency="KWD",
                                                                         amount="3.250", tax=None)])), webhook_id="ok")
    post_event(client, org, approved(report_payload(2, expenses=[expense_payload(3, amount="1.23456")])),
               webhook_id="bad")


@pytest.mark.parametrize("name", ["expensereport", "expense", "employee", "category", "cardfunding",
                                  "reimbursement", "bankstatementline", "webhookdelivery", "pullsync"])
def test_changelists_render(client, owner, mirrored, name):
    client.force_login(owner)
    assert client.get(reverse(f"admin:source_{name}_changelist")).status_code == 200


def test_expense_filters_and_search(client, owner, mirrored):
    client.force_login(owner)
    url = reverse("admin:source_expense_changelist")
    shown = lambda r: {e.expensico_id for e in r.context["cl"].queryset}  # noqa: E731
    assert shown(client.get(url, {"q": "careem"})) == {"exp_2"}
    assert shown(client.get(url, {"q": "R-2026-0001"})) == {"exp_1", "exp_2"}
    assert shown(client.get(url, {"currency": "KWD"})) == {"exp_2"}
    assert shown(client.get(url, {"status__exact": "approved"})) == {"exp_1", "exp_2"}
    assert shown(client.get(url, {"date_from": "2026-02-01", "date_to": "2026-03-31"})) == {"exp_1", "exp_2"}
    assert shown(client.get(url, {"date_from": "2026-04-01"})) == set()


def test_expense_report_change_view_has_inline_and_payload(client, owner, mirrored):
    client.force_login(owner)
    report = Expense.objects.get(expensico_id="exp_1").report
    page = client.get(reverse("admin:source_expensereport_change", args=[report.pk])).content.decode()
    assert "exp_2" in page and 'class="payload"' in page and "3.250" in page


def test_delivery_payload_viewer_escapes_and_indents(client, owner, org):
    body = approved(report_payload(9, expenses=[expense_payload(9, description="<script>alert(1)</script>")]))
    post_event(client, org, body, webhook_id="xss")
    client.force_login(owner)
    delivery = WebhookDelivery.objects.get(webhook_id="xss")
    page = client.get(reverse("admin:source_webhookdelivery_change", args=[delivery.pk])).content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert '<pre class="payload"' in page and '\n  &quot;data&quot;: {' in page


def test_rejected_delivery_shows_reason(client, owner, mirrored):
    client.force_login(owner)
    page = client.get(reverse("admin:source_webhookdelivery_changelist"), {"outcome__exact": "rejected"})
    assert [d.webhook_id for d in page.context["cl"].queryset] == ["bad"]
    assert "data.report.expenses.0.amount" in page.content.decode()


def test_mirror_is_read_only(client, owner, mirrored):
    client.force_login(owner)
    expense = Expense.objects.first()
    response = client.post(reverse("admin:source_expense_change", args=[expense.pk]), {"amount": "1"})
    assert response.status_code == 403
    assert client.get(reverse("admin:source_expense_add")).status_code == 403


def test_viewer_cannot_start_a_pull_sync(client, org):
    viewer = make_member(org, Role.VIEWER, "viewer")
    client.force_login(viewer)
    assert client.get(reverse("admin:source_pullsync_add")).status_code == 403


def test_pull_sync_started_from_the_admin_runs(client, owner, org, django_capture_on_commit_callbacks):
    server = serve_in_thread(lambda url: generate(seed=2, scale=8, base_url=url), token="tok")
    try:
        org.expensico_api_base_url, org.expensico_api_token = server.base_url, "tok"
        org.save()
        client.force_login(owner)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("admin:source_pullsync_add"),
                                   {"organization": org.pk, "date_from": "2026-01-01", "date_to": "2026-12-31"})
        assert response.status_code == 302
        run = PullSync.objects.get(organization=org)
        assert run.status == "succeeded" and run.counts["expense_reports"] == 8
        page = client.get(reverse("admin:source_pullsync_changelist")).content.decode()
        assert "5/5 streams" in page
        resumed = admin_confirm(client, reverse("admin:source_pullsync_run_now", args=[run.pk]))
        assert resumed.status_code == 302
    finally:
        server.shutdown()


def test_dashboard_shows_intake_counts(client, owner, mirrored):
    client.force_login(owner)
    page = client.get(reverse("admin:index")).content.decode()
    assert "Webhooks (24 h)" in page and "1 accepted · 0 duplicate · 1 rejected" in page


def test_the_expense_page_keeps_an_arabic_descriptions_date_and_formats_its_amounts(client, owner, org):
    """A plain read-only field showed "مكافأة سائق - 2026-01-03" as "03-01-2026 - مكافأة سائق" and the
    amount as 1234.500 with no separators and no currency."""
    post_event(client, org, approved(report_payload(7, expenses=[expense_payload(
        70, amount="1234.500", description_ar="مكافأة سائق - 2026-01-03")])), webhook_id="ar")
    client.force_login(owner)
    page = client.get(reverse("admin:source_expense_change", args=[Expense.objects.get().pk])).content.decode()
    assert 'مكافأة سائق - <span dir="ltr">2026-01-03</span>' in page
    assert '<span dir="ltr" class="whitespace-nowrap tabular-nums">1,234.50 SAR</span>' in page
    assert "1234.500" not in page
