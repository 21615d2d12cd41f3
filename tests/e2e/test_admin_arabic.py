"""In a real browser, in Arabic: the connection list, the export records list, a review item and the
mapping set page are right to left, in our Arabic words (models, fields, filters, badges, columns),
with the system's display name instead of its registry key, amounts in their currency's decimals
(SAR 2, KWD 3, JPY 0) left to right, and Arabic text in its own direction. Screenshots go to
test-artifacts/admin-arabic-*.png."""

import os

import pytest

from exports.models import ExportRecord, ReviewItem
from exports.services.worker import records_work_due
from mappings.models import HoldRule
from tests.conftest import admin_login
from tests.exports.conftest import _fake_vendor_registered, approve, conn, expense, org, vendor  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def books(org, conn, vendor):  # noqa: F811
    HoldRule.objects.create(connection=conn, name="Receipt needed", missing_receipt=True)
    approve(org, expense("exp_sar", amount="1234567.50"), rid="rpt_sar")
    approve(org, expense("exp_kwd", amount="3.25", currency="KWD"), rid="rpt_kwd")
    approve(org, expense("exp_jpy", amount="12000", currency="JPY"), rid="rpt_jpy")
    approve(org, expense("exp_r", amount="80.00", receipts=[], description="Driver honorarium",
                         description_ar="مكافأة سائق - 2026-01-03"), rid="rpt_r", employee=("emp_2", "خالد"))
    records_work_due(limit=50)
    return ReviewItem.objects.filter(resolved_at__isnull=True)


def _to_arabic(page, live_server):
    admin_login(page, live_server)
    page.goto(f"{live_server.url}/admin/connectors/connection/")
    page.locator("#nav-sidebar, nav, aside").locator("text=admin@example.com").first.click()
    page.locator("button", has_text="العربيّة").first.click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.locator("html").get_attribute("lang") == "ar"


def _shot(page, artifacts_dir, name):
    page.screenshot(path=os.path.join(artifacts_dir, f"admin-arabic-{name}.png"), full_page=True)


def _visible(page, *texts):
    for text in texts:
        assert page.locator(f"text={text} >> visible=true").count() > 0, text


def _absent(page, *english):
    body = page.locator("#main, main, body").first.inner_text()
    for text in english:
        assert text not in body, text


def test_the_admin_in_arabic_connections_records_review_item_and_mapping_set(
        page, live_server, artifacts_dir, books, conn):  # noqa: F811
    assert books.exists()
    _to_arabic(page, live_server)

    # Connections: column titles, status badge and filters in Arabic; the system by its name.
    page.goto(f"{live_server.url}/admin/connectors/connection/")
    _shot(page, artifacts_dir, "connections")
    _visible(page, "الاتصالات", "النظام", "الحالة", "القاطع", "مغلق", "متصل")
    _absent(page, "Not connected yet", "Breaker", "Exports flow", "(fake)")
    _visible(page, "Fake ledger")  # the system by its name, not its key "fake"
    _shot(page, artifacts_dir, "connections")

    # Export records: amounts per currency, left to right; words ours.
    page.goto(f"{live_server.url}/admin/exports/exportrecord/")
    _shot(page, artifacts_dir, "export-records")
    _visible(page, "سجلات التصدير", "المبلغ", "تاريخ المستند", "نظام المحاسبة")
    rows = page.locator("#result_list")
    for amount in ("1,234,567.50 SAR", "3.250 KWD", "12,000 JPY"):
        cell = rows.locator("span[dir=ltr]", has_text=amount).first
        assert cell.is_visible(), amount
    assert rows.locator("[dir=auto]", has_text="خالد").count() >= 1  # the employee in its own direction
    _absent(page, "Document date", "Vendor warnings", "External id")
    _shot(page, artifacts_dir, "export-records")

    # A review item: the Arabic description keeps its order (the date is isolated left to right).
    item = books.filter(record__expense__expensico_id="exp_r").first() or books.first()
    page.goto(f"{live_server.url}/admin/exports/reviewitem/{item.pk}/change/")
    _shot(page, artifacts_dir, "review-item")
    _visible(page, "الوصف (بالعربية)")
    description = page.locator("[dir=auto]", has_text="مكافأة سائق").first
    assert description.locator("span[dir=ltr]").inner_text() == "2026-01-03"
    _shot(page, artifacts_dir, "review-item")

    # The mapping set page: tabs, gaps table and history in Arabic, the system's name shown.
    page.goto(f"{live_server.url}/admin/mappings/mappingset/{conn.pk}/change/")
    _shot(page, artifacts_dir, "mapping-set")
    _visible(page, "الثغرات", "السجل التاريخي", "القوالب", "الربط")
    _absent(page, "Mapping version", "Unmapped, and what it blocks", "Revert set", "· fake ·")
    _visible(page, "Fake ledger")
    page.locator("a[href='#history']").click()
    _visible(page, "ما الذي تغيّر، ومن غيّره، ومتى")
    _shot(page, artifacts_dir, "mapping-set")
    assert ExportRecord.objects.filter(expense__currency="KWD").exists()
