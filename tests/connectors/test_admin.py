"""Admin pages render, and the setup flow works end to end through them (OAuth included)."""


import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from connectors.models import CallLog, Connection
from connectors.services import connection_create
from connectors.wafeq.sandbox.devstack import _approve
from connectors.wafeq.sandbox.server import CLIENT_ID, CLIENT_SECRET
from tests.conftest import admin_confirm

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw-123456789")
    client.force_login(user)
    return client


def test_pages_render(admin_client, wafeq_connection):
    CallLog.objects.create(connection=wafeq_connection, method="GET", path="/organization/", status=200)
    for url in (reverse("admin:connectors_connection_changelist"),
                reverse("admin:connectors_connection_change", args=[wafeq_connection.pk]),
                reverse("admin:connectors_connection_history", args=[wafeq_connection.pk]),
                reverse("admin:connectors_calllog_changelist"),
                reverse("admin:connectors_connection_add")):
        response = admin_client.get(url)
        assert response.status_code == 200, url
    change = admin_client.get(reverse("admin:connectors_connection_change", args=[wafeq_connection.pk])).content.decode()
    assert wafeq_connection.api_key not in change, "secrets are write-only"
    assert "Set up accounts" in change and "Reset circuit breaker" in change


def test_setup_page_lists_catalog_and_saves_choices(admin_client, wafeq_connection, wafeq_server):
    url = reverse("admin:connectors_connection_setup", args=[wafeq_connection.pk])
    before = CallLog.objects.count()
    page = admin_client.get(url).content.decode()
    assert "Change accounts" in page and "Travel" not in page
    assert CallLog.objects.count() == before, "a GET of the setup page calls no vendor"
    page = admin_client.post(url, {"step": "fetch"}, follow=True).content.decode()   # a task (inline in tests)  # loading the catalog is a POST
    assert "Expensico – Employee Claims" in page and "Travel" in page
    existing = next(a for a in wafeq_server.app.store["accounts"].values() if a["account_code"] == "1310")
    response = admin_client.post(url, {"step": "accounts", "employees_balance": existing["id"]})
    assert response.status_code == 302
    wafeq_connection.refresh_from_db()
    assert wafeq_connection.employees_balance_account == existing["id"]
    assert wafeq_connection.employees_balance_account_name == "Employee Advances"


def test_oauth_connect_through_the_admin(admin_client, org, wafeq_server):
    conn = connection_create(organization=org, system="wafeq", name="Wafeq OAuth", base_url=f"{wafeq_server.base_url}/v1",
                             auth_method=Connection.AuthMethod.OAUTH2, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    # The test client's host is not loopback: allow-list the callback exactly, as Wafeq's portal does.
    wafeq_server.app.redirect_uris = {"http://testserver" + reverse("admin:connectors_connection_oauth_callback")}
    start = admin_client.get(reverse("admin:connectors_connection_connect_oauth", args=[conn.pk]))
    assert start.status_code == 302 and start["Location"].startswith(f"{wafeq_server.base_url}/oauth/authorize/")
    params = _approve(start["Location"])                 # the person presses Allow at Wafeq
    callback = admin_client.get(reverse("admin:connectors_connection_oauth_callback"), params)
    assert callback.status_code == 302
    assert callback["Location"] == reverse("admin:connectors_connection_setup", args=[conn.pk])
    conn.refresh_from_db()
    assert conn.status == Connection.Status.CONNECTED and conn.last_check_ok
    admin_client.post(callback["Location"], {"step": "accounts"})  # accept all three defaults
    conn.refresh_from_db()
    assert conn.employee_claims_account_name == "Expensico – Employee Claims"
    assert conn.funding_bank_account_name == "Expensico Bank Account"
    history = conn.history.first()
    assert not hasattr(history, "access_token") and not hasattr(history, "api_key")


def test_breaker_reset_action(admin_client, wafeq_connection):
    from datetime import timedelta

    from django.utils import timezone
    Connection.objects.filter(pk=wafeq_connection.pk).update(consecutive_failures=9,
                                                             paused_until=timezone.now() + timedelta(minutes=5))
    admin_confirm(admin_client, reverse("admin:connectors_connection_reset_breaker", args=[wafeq_connection.pk]))
    wafeq_connection.refresh_from_db()
    assert wafeq_connection.consecutive_failures == 0 and not wafeq_connection.breaker_open


def test_member_without_capability_cannot_set_up(client, wafeq_connection):
    from expensico_sync.core.models import Membership
    user = get_user_model().objects.create_user("viewer", "v@example.com", "pw-123456789", is_staff=True)
    Membership.objects.create(user=user, organization=wafeq_connection.organization, role="viewer")
    client.force_login(user)
    assert client.get(reverse("admin:connectors_connection_changelist")).status_code == 200
    assert client.get(reverse("admin:connectors_connection_setup", args=[wafeq_connection.pk])).status_code == 403


def test_dashboard_shows_connection_panel(admin_client, wafeq_connection):
    page = admin_client.get(reverse("admin:index")).content.decode()
    assert "Open circuit breakers" in page and "Vendor calls (24 h)" in page


def test_an_exported_record_shows_the_vendors_copy_on_a_post(admin_client, wafeq_connection, wafeq_server):
    from connectors.base import connector_for
    from connectors.wafeq.sandbox import testkit
    from exports.models import ExportRecord

    entry = testkit.sample_entry(wafeq_server, wafeq_connection, "EXPENSICO-exp_vc-v1")
    pushed = connector_for(wafeq_connection).push(entry, "key-vc")
    record = ExportRecord.objects.create(
        organization=wafeq_connection.organization, connection=wafeq_connection, kind="expense", source_id="exp_vc",
        reference="EXPENSICO-exp_vc-v1", status="exported", external_id=pushed.external_id)
    url = reverse("admin:exports_exportrecord_vendor_copy", args=[record.pk])
    assert url in admin_client.get(reverse("admin:exports_exportrecord_change", args=[record.pk])).content.decode()
    before = CallLog.objects.count()
    assert admin_client.get(url).status_code == 200 and CallLog.objects.count() == before   # a GET only asks
    page = admin_confirm(admin_client, url).content.decode()
    assert 'data-test="vendor-copy"' in page and pushed.external_id in page and "115.00 SAR" in page


def test_the_connection_page_speaks_in_words_and_shows_only_its_auth_methods_credentials(admin_client, org):
    """A new finance admin's walk: the vendor settings were labelled with raw keys ("rate_limit_per_second"),
    the system with its registry key, an OAuth connection offered an "Api key" box, and the raw JSON sat
    among the chosen accounts."""
    conn = connection_create(organization=org, system="wafeq", name="Books", base_url="http://127.0.0.1:9/v1",
                             auth_method=Connection.AuthMethod.OAUTH2, client_id="cid", client_secret="s")
    page = admin_client.get(reverse("admin:connectors_connection_change", args=[conn.pk])).content.decode()
    assert "Rate limit per second" in page and ">rate_limit_per_second<" not in page
    assert "OAuth client secret" in page and 'name="api_key"' not in page
    assert "Wafeq settings" in page and "All settings (JSON)" in page
    assert "The vendor&#x27;s key in connectors/registry.py" not in page          # the system by its name
    token = connection_create(organization=org, system="moon_erp", name="Moon", base_url="http://127.0.0.1:9",
                              auth_method=Connection.AuthMethod.TOKEN, api_key="t")
    page = admin_client.get(reverse("admin:connectors_connection_change", args=[token.pk])).content.decode()
    assert "API token" in page and 'name="client_secret"' not in page and "Api key" not in page
    assert "OAuth token URL" not in page     # the OAuth endpoints only on an OAuth connection


def test_a_system_cards_initials_are_letters():
    """The cards showed "W(" for Workday (SOAP) and "Wv" for Workday via Apideck."""
    from connectors.admin_setup import initials

    assert [initials(label) for label in ("Workday (SOAP)", "Workday via Apideck", "Wafeq")] == ["WS", "WA", "W"]


def test_the_activate_button_keeps_its_date_in_arabic(admin_client, org):
    """"فعّل من 2026-12-06" read "06-12-2026": after Arabic letters the digits run right to left."""
    conn = connection_create(organization=org, system="moon_erp", name="Moon", base_url="http://127.0.0.1:9",
                             auth_method=Connection.AuthMethod.TOKEN, api_key="t", active=False)
    page = admin_client.get(reverse("admin:connectors_connection_setup", args=[conn.pk]),
                            {"export_from": "2026-12-06"}, HTTP_ACCEPT_LANGUAGE="ar").content.decode()
    button = page[page.index('value="activate"'):]
    assert '<span dir="ltr">2026-12-06</span>' in button[:button.index("</button>")]
