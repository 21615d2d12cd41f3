"""In a real browser: the connection form shows the vendor's settings as fields with their help
text, and saving one stores it typed. Screenshots go to test-artifacts/."""

import os

import pytest

from connectors.models import Connection
from tests.conftest import admin_login
from tests.core.factories import make_org

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_vendor_setting_is_edited_as_a_form_field(page, live_server, artifacts_dir):
    org = make_org("settings-e2e")
    conn = Connection.objects.create(organization=org, system="business_central", name="BC books",
                                     base_url="http://127.0.0.1:9/v2.0/t/production/api/v2.0",
                                     auth_method="client_credentials", settings={"journal_id": "j-1"})
    admin_login(page, live_server)
    page.goto(f"{live_server.url}/admin/connectors/connection/{conn.pk}/change/")
    field = page.locator("input[name=setting__journal_code]")
    field.scroll_into_view_if_needed()
    assert field.input_value() == "EXPENSICO"
    assert page.locator("text=The general journal batch our lines go into").first.is_visible()
    page.locator("select[name=setting__export_mode]").select_option("purchase_invoice")
    field.fill("OURS")
    page.screenshot(path=os.path.join(artifacts_dir, "connection-settings-form.png"), full_page=True)
    page.locator("button[name=_continue]").first.click()
    page.wait_for_load_state()
    page.screenshot(path=os.path.join(artifacts_dir, "connection-settings-saved.png"), full_page=True)
    conn.refresh_from_db()
    assert conn.settings == {"journal_id": "j-1", "journal_code": "OURS", "export_mode": "purchase_invoice"}


def test_the_vendors_lock_date_is_stated_on_the_connection(page, live_server, artifacts_dir):
    """Moon ERP's API does not publish its locked period: the connection states it, and a value
    that is not a date is refused naming the setting."""
    org = make_org("lock-e2e")
    conn = Connection.objects.create(organization=org, system="moon_erp", name="Moon books",
                                     base_url="http://127.0.0.1:9/", settings={})
    admin_login(page, live_server)
    page.goto(f"{live_server.url}/admin/connectors/connection/{conn.pk}/change/")
    field = page.locator("input[name=setting__vendor_closed_through]")
    field.scroll_into_view_if_needed()
    assert page.locator("text=Only Business Central publishes its lock").first.is_visible()
    field.fill("30/11/2026")
    page.locator("button[name=_continue]").first.click()
    page.wait_for_load_state()
    assert page.locator("text=is not a date (YYYY-MM-DD)").first.is_visible()
    page.screenshot(path=os.path.join(artifacts_dir, "connection-lock-date-refused.png"), full_page=True)
    conn.refresh_from_db()
    assert "vendor_closed_through" not in conn.settings
    page.locator("input[name=setting__vendor_closed_through]").fill("2026-11-30")
    page.locator("button[name=_continue]").first.click()
    page.wait_for_load_state()
    field = page.locator("input[name=setting__vendor_closed_through]")
    field.scroll_into_view_if_needed()
    page.screenshot(path=os.path.join(artifacts_dir, "connection-lock-date-saved.png"), full_page=False)
    conn.refresh_from_db()
    assert conn.settings == {"vendor_closed_through": "2026-11-30"}
