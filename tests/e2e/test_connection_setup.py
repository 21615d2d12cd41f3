"""The guided connection setup in a real browser, once per auth style, against the vendors'
sandboxes: system card → its fields → connect/test → accounts → map categories → start date →
activate. Screenshots go to test-artifacts/setup-<vendor>-*.png."""

import os
from datetime import date

import pytest
from django.utils import timezone

from connectors.business_central.sandbox import testkit as bc_testkit
from connectors.business_central.sandbox.server import API_PREFIX
from connectors.business_central.sandbox.server import CLIENT_ID as BC_CLIENT_ID
from connectors.business_central.sandbox.server import CLIENT_SECRET as BC_SECRET
from connectors.models import Connection
from connectors.moon_erp.sandbox import testkit as moon_testkit
from connectors.moon_erp.sandbox.server import FULL_TOKEN
from connectors.services import connection_create
from connectors.wafeq.sandbox import testkit as wafeq_testkit
from connectors.wafeq.sandbox.server import CLIENT_ID, CLIENT_SECRET
from expensico_sync.core.services import organization_create
from exports.models import ExportRecord, SyncRun
from tests.conftest import admin_login
from tests.exports.conftest import approve, expense

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def org():
    return organization_create(slug="setup-e2e", name="Setup E2E", base_currency="SAR", country="SA")


def _shot(page, artifacts_dir, name):
    page.screenshot(path=os.path.join(artifacts_dir, f"setup-{name}.png"), full_page=True)


def _one_expense_today(org):
    today = timezone.localdate().isoformat()
    approve(org, expense("exp_setup_1", date=today, category="TRAVEL"), rid="rpt_setup")


def _choose(page, live_server, artifacts_dir, system, auth, tag):
    page.goto(f"{live_server.url}/admin/connectors/connection/add/")
    assert page.locator("[data-system]").count() >= 5
    _shot(page, artifacts_dir, "0-systems")
    page.locator(f"[data-system={system}] a[href*='auth={auth}']").click()
    page.wait_for_load_state()


def _finish(page, artifacts_dir, tag, conn):
    """Load and save the accounts, see the mapping step, read the preview and activate."""
    page.locator("button[name=step][value=fetch]").click()
    page.wait_for_load_state()
    _shot(page, artifacts_dir, f"{tag}-3-accounts")
    page.locator("button[name=step][value=accounts]").click()
    page.wait_for_load_state()
    assert page.locator("[data-step=accounts] h3", has_text="✓").count() == 1
    assert page.locator("[data-step=extra] h3", has_text="Map categories").is_visible()
    preview = page.locator("[data-test=activation-preview]")
    assert preview.locator("[data-test=would-export]").inner_text() == "1"
    assert preview.locator("[data-test=would-hold]").inner_text() == "1"   # TRAVEL has no account yet
    _shot(page, artifacts_dir, f"{tag}-4-activate")
    conn.refresh_from_db()
    assert not conn.active and not ExportRecord.objects.filter(connection=conn).exists()
    page.locator("button[name=step][value=activate]").click()
    page.wait_for_load_state()
    assert "active since" in page.locator("[data-test=active-badge]").inner_text().lower()
    _shot(page, artifacts_dir, f"{tag}-5-active")
    conn.refresh_from_db()
    assert conn.active and conn.export_from == timezone.localdate()
    assert SyncRun.objects.filter(connection=conn, date_from=conn.export_from).count() == 1
    # The change page: one button and a menu, so the breadcrumbs keep their room; OAuth only for OAuth.
    page.goto(page.url.replace("/setup/", "/change/"))
    page.wait_for_load_state()
    assert page.get_by_role("link", name="Set up accounts").is_visible()
    oauth_in_menu = page.locator("a[href$='/connect_oauth/']").count()
    assert oauth_in_menu == (1 if conn.auth_method == "oauth2" else 0)
    _shot(page, artifacts_dir, f"{tag}-6-change")


def test_oauth_wafeq_through_to_activation(page, live_server, artifacts_dir, org):
    server = wafeq_testkit.start_sandbox()
    try:
        server.app.redirect_uris = {f"{live_server.url}/admin/connectors/connection/oauth/callback/"}
        _one_expense_today(org)
        admin_login(page, live_server)
        _choose(page, live_server, artifacts_dir, "wafeq", "oauth2", "wafeq")
        # Only the OAuth client's fields: no API key box for an OAuth connection.
        assert page.locator("input[name=client_secret]").count() == 1
        assert page.locator("input[name=api_key]").count() == 0
        page.select_option("select[name=organization]", str(org.pk))
        page.fill("input[name=name]", "Wafeq books")
        page.fill("input[name=base_url]", f"{server.base_url}/v1")
        page.fill("input[name=client_id]", CLIENT_ID)
        page.fill("input[name=client_secret]", CLIENT_SECRET)
        page.locator("[data-test=advanced]").click()
        page.fill("input[name=setting__rate_limit_per_second]", "50")
        _shot(page, artifacts_dir, "wafeq-1-fields")
        page.get_by_role("button", name="Save and continue").click()
        page.wait_for_load_state()
        conn = Connection.objects.get(name="Wafeq books")
        assert not conn.active and conn.auth_method == "oauth2"
        page.get_by_role("link", name="Connect with OAuth").click()
        page.locator("#allow").click()                       # the person allows access at Wafeq
        page.wait_for_url(f"**/admin/connectors/connection/{conn.pk}/setup/")
        _shot(page, artifacts_dir, "wafeq-2-connected")
        conn.refresh_from_db()
        assert conn.status == Connection.Status.CONNECTED and conn.access_token
        _finish(page, artifacts_dir, "wafeq", conn)
    finally:
        server.stop()


def test_token_moon_through_to_activation_warns_of_a_second_connection(page, live_server, artifacts_dir, org):
    server = moon_testkit.start_sandbox()
    try:
        connection_create(organization=org, system="moon_erp", name="Moon (old)", base_url=server.base_url,
                          auth_method="token", api_key=FULL_TOKEN)
        _one_expense_today(org)
        admin_login(page, live_server)
        _choose(page, live_server, artifacts_dir, "moon_erp", "token", "moon")
        page.select_option("select[name=organization]", str(org.pk))
        page.fill("input[name=name]", "Moon books")
        page.fill("input[name=base_url]", server.base_url)
        page.fill("input[name=api_key]", FULL_TOKEN)
        page.locator("[data-test=advanced]").click()
        page.fill("input[name=setting__rate_limit_per_second]", "50")
        _shot(page, artifacts_dir, "moon-1-fields")
        page.get_by_role("button", name="Save and continue").click()
        page.wait_for_load_state()
        conn = Connection.objects.get(name="Moon books")
        assert page.locator("[data-test=duplicate-warning]").is_visible()
        assert page.get_by_role("link", name="Connect with OAuth").count() == 0
        page.locator("button[name=step][value=test]").click()
        page.wait_for_load_state()
        _shot(page, artifacts_dir, "moon-2-tested")
        conn.refresh_from_db()
        assert conn.last_check_ok, conn.last_check_detail
        _finish(page, artifacts_dir, "moon", conn)
    finally:
        server.stop()


def test_entra_business_central_through_to_activation(page, live_server, artifacts_dir, org):
    server = bc_testkit.start_sandbox()
    try:
        _one_expense_today(org)
        admin_login(page, live_server)
        _choose(page, live_server, artifacts_dir, "business_central", "client_credentials", "bc")
        page.select_option("select[name=organization]", str(org.pk))
        page.fill("input[name=name]", "BC books")
        page.fill("input[name=base_url]", f"{server.base_url}{API_PREFIX}".rstrip("/"))
        page.fill("input[name=client_id]", BC_CLIENT_ID)
        page.fill("input[name=client_secret]", BC_SECRET)
        page.fill("input[name=setting__authority_host]", server.base_url)
        page.fill("input[name=setting__ca_bundle]", server.app.ca_bundle)
        page.locator("[data-test=advanced]").click()
        page.fill("input[name=setting__rate_limit_per_second]", "50")
        assert page.locator("text=The general journal batch our lines go into").first.is_visible()
        _shot(page, artifacts_dir, "bc-1-fields")
        page.get_by_role("button", name="Save and continue").click()
        page.wait_for_load_state()
        conn = Connection.objects.get(name="BC books")
        assert conn.settings["authority_host"] == server.base_url
        page.locator("button[name=step][value=test]").click()
        page.wait_for_load_state()
        _shot(page, artifacts_dir, "bc-2-tested")
        conn.refresh_from_db()
        assert conn.last_check_ok, conn.last_check_detail
        _finish(page, artifacts_dir, "bc", conn)
    finally:
        server.stop()


def test_a_start_date_keeps_older_documents_out(org):
    """Engine side, no browser: an inactive connection gets no records; once active from a date,
    documents dated before it get none either."""
    conn = connection_create(organization=org, system="moon_erp", name="Moon", base_url="http://127.0.0.1:9",
                             auth_method="token", api_key="t", active=False)
    approve(org, expense("exp_a", date="2026-11-02"), rid="rpt_a")
    assert not ExportRecord.objects.filter(connection=conn).exists()
    Connection.objects.filter(pk=conn.pk).update(active=True, export_from=date(2026, 11, 10))
    approve(org, expense("exp_b", date="2026-11-09"), expense("exp_c", date="2026-11-10"), rid="rpt_b")
    assert list(ExportRecord.objects.filter(connection=conn).values_list("source_id", flat=True)) == ["exp_c"]
