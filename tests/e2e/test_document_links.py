"""In a real browser: the export records list links a Business Central document to its web-client
page and shows another system's id as text titled "publishes no link". Screenshot in test-artifacts/."""

import os

import pytest
from playwright.sync_api import expect

from connectors.models import Connection
from expensico_sync.core.services import organization_create
from exports.models import ExportRecord
from tests.conftest import admin_login

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
BC_BASE = "https://api.businesscentral.dynamics.com/v2.0/contoso/production/api/v2.0"


def test_the_list_links_where_the_vendor_has_an_address(page, live_server, artifacts_dir):
    org = organization_create(slug="links-e2e", name="Links E2E", base_currency="SAR", country="SA")
    common = {"organization": org, "kind": "statement_transaction", "source_version": 1, "status": "exported",
              "next_attempt_at": None}
    bc = Connection.objects.create(organization=org, system="business_central", name="BC books", base_url=BC_BASE,
                                   settings={"company_name": "CRONUS", "post": True}, active=False)
    moon = Connection.objects.create(organization=org, system="moon_erp", name="Moon books",
                                     base_url="http://127.0.0.1:9", active=False)
    ExportRecord.objects.create(connection=bc, source_id="ln_bc", reference="EXPENSICO-ln_bc-v1",
                                external_id="GJ:EXP-00AA", **common)
    ExportRecord.objects.create(connection=moon, source_id="ln_moon", reference="EXPENSICO-ln_moon-v1",
                                external_id="4711", **common)
    admin_login(page, live_server)
    page.goto(f"{live_server.url}/admin/exports/exportrecord/")
    linked = page.get_by_role("link", name="GJ:EXP-00AA")
    expect(linked).to_have_attribute("href", "https://businesscentral.dynamics.com/contoso/production/?company=CRONUS"
                                             "&page=20&filter=%27Document%20No.%27%20IS%20%27EXP-00AA%27")
    plain = page.locator("span[title*='publishes no link']", has_text="4711")
    expect(plain).to_be_visible()
    page.screenshot(path=os.path.join(artifacts_dir, "document-links-list.png"), full_page=True)
