"""In a real browser, issue 21's last pieces: a review item shows its receipt (an image as a
thumbnail loaded through the organisation-scoped receipt view, an indicator in the list), an export
record shows its stored status-change history, and the dashboard's two vendor-failure cards state
one definition and window. Screenshots go to test-artifacts/."""

import os
import struct
import zlib

import pytest
from django.core.files.base import ContentFile

from connectors.models import CallLog
from expensico_sync.source.models import Receipt
from exports.models import ExportRecord, ReviewItem
from exports.services.review import review_item_resolve
from exports.services.worker import records_work_due
from tests.conftest import admin_login
from tests.exports.conftest import _fake_vendor_registered, approve, conn, expense, org, vendor  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _png(size: int = 8, rgb: bytes = b"\xd9\x3b\x3b") -> bytes:
    """A valid size×size PNG of one colour (a truncated one loads its size but paints nothing)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    rows = b"".join(b"\x00" + rgb * size for _ in range(size))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


PNG = _png()


@pytest.fixture
def held(org, conn, vendor, settings, tmp_path):  # noqa: F811
    settings.MEDIA_ROOT = str(tmp_path)
    approve(org, expense("exp_img", category="HOTEL", amount="410.00"), rid="rpt_img")
    records_work_due()
    receipt = Receipt.objects.get(expense__expensico_id="exp_img")
    receipt.content_type, receipt.filename = "image/png", "hotel.png"
    receipt.file.save("hotel.png", ContentFile(PNG))
    return ReviewItem.objects.select_related("record").get(), receipt


def test_review_item_shows_the_receipt_thumbnail(page, live_server, artifacts_dir, held):
    item, receipt = held
    admin_login(page, live_server)
    page.goto(f"{live_server.url}/admin/exports/reviewitem/")
    indicator = page.locator("[data-test=receipt-indicator]").first
    assert indicator.get_attribute("href") == f"/receipts/{receipt.pk}/" and "image" in indicator.inner_text()
    page.screenshot(path=os.path.join(artifacts_dir, "review-receipt-1-list.png"), full_page=True)
    page.goto(f"{live_server.url}/admin/exports/reviewitem/{item.pk}/change/")
    thumbnail = page.locator("img[data-test=receipt-thumbnail]")
    thumbnail.scroll_into_view_if_needed()
    # Loaded for real, through the signed-in, organisation-scoped view.
    page.wait_for_function("img => img.complete && img.naturalWidth === 8", arg=thumbnail.element_handle())
    assert thumbnail.get_attribute("src") == f"/receipts/{receipt.pk}/"
    page.screenshot(path=os.path.join(artifacts_dir, "review-receipt-2-item.png"), full_page=True)


def test_record_page_shows_its_status_history(page, live_server, artifacts_dir, held):
    from django.contrib.auth import get_user_model

    item, _ = held
    admin_login(page, live_server)
    review_item_resolve(item=item, resolution=ReviewItem.Resolution.SKIPPED, note="a personal stay",
                        by=get_user_model().objects.get(username="admin"))
    record = ExportRecord.objects.get(pk=item.record_id)
    page.goto(f"{live_server.url}/admin/exports/exportrecord/{record.pk}/change/")
    history = page.locator("[data-test=status-history]")
    history.scroll_into_view_if_needed()
    rows = history.locator("tbody tr")
    assert rows.count() == 2
    assert "In progress → Needs review" in rows.nth(0).inner_text() and "HOTEL" in rows.nth(0).inner_text()
    last = rows.nth(1).inner_text()
    assert "Needs review → Cancelled" in last and "admin" in last and "a personal stay" in last
    page.screenshot(path=os.path.join(artifacts_dir, "record-status-history.png"), full_page=True)


def test_dashboard_failure_cards_state_one_definition(page, live_server, artifacts_dir, conn):  # noqa: F811
    for status, error in ((201, ""), (201, ""), (201, ""), (503, "Transient")):
        CallLog.objects.create(connection=conn, method="POST", path="/v1/expenses", status=status, error_class=error)
    admin_login(page, live_server)
    page.goto(f"{live_server.url}/admin/?org={conn.organization_id}")
    body = page.locator("#content, main").first.inner_text()
    assert "1 failed (25.0%)" in body and "1 of 4 vendor calls failed" in body
    assert page.locator("[data-test=kpi-definition]").count() == 2
    page.screenshot(path=os.path.join(artifacts_dir, "dashboard-failure-cards.png"), full_page=True)
