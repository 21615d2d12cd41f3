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
