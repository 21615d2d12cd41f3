"""In a real browser: the review queue shows each item with its document and the one action that
fixes it, and a person resolves each kind (a missing receipt booked without it, a vendor refusal
booked manually, a hold approved, a warning acknowledged, a mapping gap retried in bulk after a
confirmation that says how many items and how much money). Screenshots go to test-artifacts/."""

import os
from decimal import Decimal

import pytest

from exports.models import ExportRecord, HoldRelease, ReviewItem
from exports.services.worker import records_work_due
from mappings.models import HoldRule
from tests.conftest import admin_login
from tests.exports.conftest import _fake_vendor_registered, approve, conn, expense, org, vendor  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
R = ReviewItem.Reason


@pytest.fixture
def queue(org, conn, vendor):  # noqa: F811
    vendor.warnings = ("saved as a draft journal (submit is off)",)
    approve(org, expense("exp_w", amount="80.00"), rid="rpt_w")
    records_work_due(limit=50)
    vendor.warnings, vendor.faults = (), ["permanent"]
    approve(org, expense("exp_v", amount="2500.75"), rid="rpt_v")
    records_work_due(limit=50)
    HoldRule.objects.create(connection=conn, name="Receipt needed", missing_receipt=True)
    HoldRule.objects.create(connection=conn, name="Big spend", amount_over=Decimal("4000"))
    approve(org, expense("exp_gap", category="HOTEL", amount="310.00"), rid="rpt_gap")
    approve(org, expense("exp_r", amount="1234.50", receipts=[], merchant="Uber",
                         description="Driver honorarium", description_ar="مكافأة سائق - 2026-01-03"),
            rid="rpt_r", employee=("emp_2", "Khalid"))
    approve(org, expense("exp_big", amount="5000.00"), rid="rpt_big")
    records_work_due(limit=50)
    # What some vendors answer: the sentence sits inside JSON.
    validation = ReviewItem.objects.get(reason=R.VALIDATION)
    ReviewItem.objects.filter(pk=validation.pk).update(
        detail='400 POST /expenses: {"error": {"code": "invalid_account", "message": "Account 4000 is archived"}}')
    return {item.reason: item for item in ReviewItem.objects.filter(resolved_at__isnull=True)}


def _shot(page, artifacts_dir, name):
    page.screenshot(path=os.path.join(artifacts_dir, name), full_page=True)


def _dialog_submit(page, url_after):
    page.locator("#dialog button[type=submit]").click()
    page.wait_for_url(url_after)


def test_each_kind_of_review_item_is_resolved_from_its_context(page, live_server, artifacts_dir, queue, conn):  # noqa: F811
    assert set(queue) == {R.VENDOR_WARNING, R.VALIDATION, R.MAPPING_GAP, R.MISSING_RECEIPT, R.HOLD_RULE}
    changelist = f"{live_server.url}/admin/exports/reviewitem/"
    admin_login(page, live_server)
    page.goto(changelist)
    _shot(page, artifacts_dir, "review-queue-context.png")
    body = page.locator("#result_list")
    for text in ("1,234.50 SAR", "5,000.00 SAR", "Khalid · Uber", "مكافأة سائق - 2026-01-03",
                 "Account 4000 is archived", "Receipt arrived — retry", "Book without receipt", "Approve and export",
                 "Acknowledge", "Add mapping · category HOTEL", "Fake books"):
        assert body.locator(f"text={text}").first.is_visible(), text
    assert '{"error"' not in body.inner_text()  # the vendor's words, not its JSON
    assert body.locator("[dir=auto]", has_text="مكافأة سائق").count() >= 1

    # The connection filter narrows the queue.
    page.goto(f"{changelist}?connection={conn.pk}")
    assert page.locator("#result_list tbody tr").count() == 5

    # Missing receipt: the item shows the document and offers the receipt actions; book without it.
    missing = queue[R.MISSING_RECEIPT]
    page.goto(f"{changelist}{missing.pk}/change/")
    for text in ("Receipt arrived — retry", "Book without receipt", "Open the expense", "Driver honorarium"):
        assert page.locator(f"text={text}").first.is_visible(), text
    assert page.locator("a, button", has_text="Acknowledge").count() == 0  # only the buttons that fit
    _shot(page, artifacts_dir, "review-item-missing-receipt.png")
    page.locator("a", has_text="Book without receipt").first.click()
    page.locator("#dialog textarea[name=reason]").fill("Taxi driver gives no receipts; confirmed by the manager")
    _shot(page, artifacts_dir, "review-item-book-without-receipt.png")
    _dialog_submit(page, changelist)
    missing.refresh_from_db()
    assert missing.resolution == ReviewItem.Resolution.RELEASED
    assert HoldRelease.objects.get(review_item=missing).note.startswith("Taxi driver")

    # A vendor refusal: booked manually under the vendor's reference; the record's error is cleared.
    refused = queue[R.VALIDATION]
    page.goto(f"{changelist}{refused.pk}/change/")
    assert page.locator("text=Account 4000 is archived").first.is_visible()
    page.locator("text=Other resolutions").first.click()  # the less common resolutions sit in a menu
    page.locator("a", has_text="Booked manually").first.click()
    page.locator("#dialog input[name=external_reference]").fill("EXP-2026-0042")
    _dialog_submit(page, changelist)
    record = ExportRecord.objects.get(pk=refused.record_id)
    assert (record.status, record.external_id, record.last_error) == ("exported", "EXP-2026-0042", "")

    # A hold: approved from the queue's own link (its page asks first).
    held = queue[R.HOLD_RULE]
    page.goto(changelist)
    page.locator(f"a[href$='/{held.pk}/release_one/']").click()
    page.locator("form button[type=submit]", has_text="Approve").click()
    page.wait_for_url(changelist)
    held.refresh_from_db()
    assert held.resolution == ReviewItem.Resolution.RELEASED

    # A vendor warning: acknowledged.
    warned = queue[R.VENDOR_WARNING]
    page.goto(f"{changelist}{warned.pk}/change/")
    page.locator("a", has_text="Acknowledge").first.click()
    _dialog_submit(page, changelist)
    warned.refresh_from_db()
    assert warned.resolution == ReviewItem.Resolution.ACKNOWLEDGED

    # The mapping gap: its link opens the mapping to add, pre-filled; then the bulk retry asks first.
    gap = queue[R.MAPPING_GAP]
    page.goto(changelist)
    page.locator("a", has_text="Add mapping · category HOTEL").click()
    assert page.locator("input[name=category_code]").input_value() == "HOTEL"
    page.goto(changelist)
    page.locator(f"input[name=_selected_action][value='{gap.pk}']").check()
    page.locator("select[name=action]").select_option("retry_selected")
    page.locator("button[name=index], button[type=submit][title], #changelist-actions button").first.click()
    summary = page.locator("[data-testid=bulk-summary]")
    summary.wait_for()
    assert "310.00 SAR" in summary.inner_text() and "1" in summary.inner_text()
    _shot(page, artifacts_dir, "review-bulk-retry-confirm.png")
    gap.refresh_from_db()
    assert gap.is_open  # asking changed nothing
    page.locator("form button[type=submit]", has_text="Retry them").click()
    page.wait_for_url(f"{changelist}**")
    gap.refresh_from_db()
    assert gap.resolution == ReviewItem.Resolution.RETRIED
    _shot(page, artifacts_dir, "review-queue-after.png")


def test_the_queue_in_arabic_right_to_left(page, live_server, artifacts_dir, queue):
    """The language switcher (user menu) turns the admin Arabic and right to left; amounts stay
    left to right with their currency's decimals, and an Arabic description keeps its date's order."""
    admin_login(page, live_server)
    page.goto(f"{live_server.url}/admin/exports/reviewitem/")
    page.locator("#nav-sidebar, nav, aside").locator("text=admin@example.com").first.click()
    page.locator("button", has_text="العربيّة").first.click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.locator("html").get_attribute("lang") == "ar"
    for text in ("قائمة المراجعة", "ما الذي حدث", "إيصال مفقود", "وصل الإيصال — أعد المحاولة", "1,234.50 SAR"):
        assert page.locator(f"text={text}").first.is_visible(), text
    description = page.locator("[dir=auto]", has_text="مكافأة سائق").first
    assert description.locator("span[dir=ltr]").inner_text() == "2026-01-03"  # the date is not turned around
    _shot(page, artifacts_dir, "review-queue-arabic.png")
    missing = queue[R.MISSING_RECEIPT]
    page.goto(f"{live_server.url}/admin/exports/reviewitem/{missing.pk}/change/")
    assert page.locator("text=الوصف (بالعربية)").first.is_visible()
    _shot(page, artifacts_dir, "review-item-arabic.png")
    # And back to English.
    page.locator("#nav-sidebar, nav, aside").locator("text=admin@example.com").first.click()
    page.locator("button", has_text="English").first.click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("dir") == "ltr"


def test_the_dashboard_per_organisation_with_readable_charts(page, live_server, artifacts_dir, queue, org):  # noqa: F811
    from tests.core.factories import make_org

    make_org("second-org")  # two organisations: the switcher shows
    admin_login(page, live_server)
    page.select_option("#dashboard-org-select", str(org.pk))
    page.wait_for_url(f"{live_server.url}/admin/?org={org.pk}")
    assert page.locator("canvas.chart[data-options]").count() >= 2
    charts = page.locator("canvas.chart")
    options = [charts.nth(i).get_attribute("data-options") or "" for i in range(charts.count())]
    assert all('"legend": {"display": true' in o for o in options)  # every chart: legend and titled axes
    assert any('"text": "Export records"' in o for o in options)
    page.wait_for_timeout(500)  # Chart.js draws after load
    _shot(page, artifacts_dir, "dashboard-organisation.png")
    page.locator("a", has_text="Needs review").first.click()
    page.wait_for_url(f"**/admin/exports/reviewitem/?org={org.pk}")
