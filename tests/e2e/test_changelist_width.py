"""In a real browser at 1440×900: the main lists (export records, review items, expenses, the vendor
call log, connections) fit their container, with long names, Arabic text and long keys in the
rows, so nobody scrolls sideways to find a record's status. Screenshots go to test-artifacts/."""

import os

import pytest
from playwright.sync_api import expect

from connectors.models import CallLog
from exports.models import ReviewItem
from exports.services.worker import records_work_due
from mappings.models import HoldRule
from tests.conftest import admin_login
from tests.exports.conftest import _fake_vendor_registered, approve, conn, expense, org, vendor  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LISTS = {
    "records": "/admin/exports/exportrecord/",
    "review-items": "/admin/exports/reviewitem/",
    "expenses": "/admin/source/expense/",
    "call-log": "/admin/connectors/calllog/",
    "connections": "/admin/connectors/connection/",
}


@pytest.fixture
def busy(org, conn, vendor):  # noqa: F811
    """Rows as wide as real ones: long merchants and descriptions (English and Arabic), a long
    connection name, an item of each common kind, long request paths and keys in the call log."""
    conn.name = "Fake books — Riyadh head office (production ledger)"
    conn.save()
    vendor.warnings = ("saved as a draft journal (submit is off)",)
    approve(org, expense("exp_w", amount="80.00", merchant="Al Baik Restaurant Olaya Street Branch 42"), rid="rpt_w")
    records_work_due(limit=50)
    vendor.warnings, vendor.faults = (), ["permanent"]
    approve(org, expense("exp_v", amount="1250000.75", description="Conference sponsorship, booth and travel "
                         "for the whole sales team"), rid="rpt_v")
    records_work_due(limit=50)
    HoldRule.objects.create(connection=conn, name="Receipt needed", missing_receipt=True)
    approve(org, expense("exp_gap", category="HOTEL", amount="310.00"), rid="rpt_gap")
    approve(org, expense("exp_r", amount="1234.50", receipts=[], merchant="Uber Technologies Middle East",
                         description="Driver honorarium", description_ar="مكافأة سائق - 2026-01-03"),
            rid="rpt_r", employee=("emp_2", "Khalid Abdulrahman Al-Mutairi"))
    records_work_due(limit=50)
    for n in range(3):
        CallLog.objects.create(connection=conn, method="POST", path=f"/api/v2.0/companies(8f0c3d2e-1b7a-4c59-9e21-"
                               f"5d6f7a8b9c0d)/journals(4e5f6a7b-8c9d-0e1f-2a3b-4c5d6e7f8a9b)/journalLines/{n}",
                               status=422, duration_ms=1834, error_class="Permanent",
                               idempotency_key=f"6b1d9f0e-2c3a-4b5c-8d7e-9f0a1b2c3d4{n}",
                               request_id=f"req-0a1b2c3d4e5f60718293a4b5c6d7e8f9-{n}")
    assert ReviewItem.objects.filter(resolved_at__isnull=True).count() >= 3


@pytest.mark.parametrize("name", list(LISTS))
def test_a_main_list_fits_its_container_at_1440_px(page, live_server, artifacts_dir, busy, name):
    admin_login(page, live_server)  # sets the 1440×900 viewport
    page.goto(f"{live_server.url}{LISTS[name]}")
    table = page.locator("#result_list")
    expect(table.locator("tbody tr").first).to_be_visible()
    page.screenshot(path=os.path.join(artifacts_dir, f"list-width-{name}.png"), full_page=True)
    table_width, container_width, page_width = table.evaluate(
        "t => [t.scrollWidth, t.parentElement.clientWidth, document.documentElement.scrollWidth]")
    assert table_width <= container_width, f"{name}: the table is {table_width}px in a {container_width}px container"
    assert page_width <= 1440, f"{name}: the page scrolls sideways ({page_width}px)"
