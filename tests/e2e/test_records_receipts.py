"""In a real browser: a receipt opens through the authenticated view (never /media/), an export
record reads like a document, and a sync run previews what it will do, then counts live.
Screenshots go to test-artifacts/."""

import base64
import os
from datetime import date

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from connectors.models import Connection
from expensico_sync.core.services import organization_create
from expensico_sync.source.models import Expense, Receipt
from exports.models import ExportAttempt, ExportRecord, SyncRun
from tests.conftest import admin_login
from tests.core.factories import make_member, make_org
from tests.exports.conftest import approve, expense

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
# A 2×2 red PNG.
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEklEQVR4nGP4z8DAwMDAxMDAAAAbzAH/"
                       "e7nSWgAAAABJRU5ErkJggg==")


@pytest.fixture
def booked(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    org = organization_create(slug="records-e2e", name="Records E2E", base_currency="SAR", country="SA")
    conn = Connection.objects.create(organization=org, system="moon_erp", name="Moon books",
                                     base_url="http://127.0.0.1:9", auth_method="token", api_key="t",
                                     status="connected", active=False)   # nothing goes out in this test
    approve(org, expense("exp_rec", date="2026-11-02", amount="1234.50",
                         description_ar="مكافأة سائق - 2026-01-03"), rid="rpt_rec")
    exp = Expense.objects.get(expensico_id="exp_rec")
    receipt = Receipt.objects.get(expense=exp)
    receipt.content_type = "image/png"
    receipt.file.save("receipt.png", ContentFile(PNG))
    now = timezone.now()
    record = ExportRecord.objects.create(
        organization=org, connection=conn, kind="expense", source_id="exp_rec", source_version=1, expense=exp,
        employee=exp.employee, document_date=exp.date, reference="EXPENSICO-exp_rec-v1", status="exported",
        external_id="EXP-77", exported_at=now, attempts=1, payload_preview={"reference": "EXPENSICO-exp_rec-v1",
                                                                           "amount": "1234.50"})
    ExportAttempt.objects.create(record=record, number=1, started_at=now, finished_at=now, outcome="exported",
                                 external_id="EXP-77")
    return org, conn, exp, receipt, record


def test_a_receipt_opens_through_the_scoped_view(page, live_server, artifacts_dir, booked, client):
    org, conn, exp, receipt, record = booked
    admin_login(page, live_server)
    page.goto(f"{live_server.url}/admin/source/expense/{exp.pk}/change/")
    link = page.get_by_role("link", name="Open receipt")
    assert link.get_attribute("href") == f"/receipts/{receipt.pk}/"
    page.screenshot(path=os.path.join(artifacts_dir, "receipt-1-expense.png"), full_page=True)
    with page.expect_popup() as popup:
        link.click()
    opened = popup.value
    opened.wait_for_load_state()
    assert opened.url.endswith(f"/receipts/{receipt.pk}/")
    opened.screenshot(path=os.path.join(artifacts_dir, "receipt-2-opened.png"))
    # The same file for a member of the organisation; nothing for another organisation's member,
    # nor for someone signed out.
    response = client.get(f"/receipts/{receipt.pk}/")
    assert response.status_code == 302                          # to the login page
    outsider = make_member(make_org("other-org"), username="outsider")
    outsider.is_staff = True
    outsider.save()
    client.force_login(outsider)
    assert client.get(f"/receipts/{receipt.pk}/").status_code == 404
    member = make_member(org, username="member")
    member.is_staff = True
    member.save()
    client.force_login(member)
    response = client.get(f"/receipts/{receipt.pk}/")
    assert response.status_code == 200 and b"".join(response.streaming_content) == PNG
    assert response["Content-Type"] == "image/png" and response["X-Content-Type-Options"] == "nosniff"


def test_a_record_reads_like_a_document(page, live_server, artifacts_dir, booked):
    org, conn, exp, receipt, record = booked
    admin_login(page, live_server)
    page.goto(f"{live_server.url}/admin/exports/exportrecord/")
    row = page.locator("#result_list tbody tr").first
    # The System column names the connection once, with the system under it where the name does not say it.
    assert "1,234.50 SAR" in row.inner_text() and "Moon books\nMoon ERP" in row.inner_text()
    page.screenshot(path=os.path.join(artifacts_dir, "record-1-list.png"), full_page=True)
    page.goto(f"{live_server.url}/admin/exports/exportrecord/{record.pk}/change/")
    body = page.locator("#content").inner_text()
    assert "1,234.50 SAR" in body and "مكافأة سائق - 2026-01-03" in body and "exported as EXP-77" in body
    assert page.get_by_role("link", name="receipt.png").count() + page.get_by_role("link", name="r.pdf").count() == 1
    assert page.locator("button[name=_save]").count() == 0
    assert page.locator("a[href$='/retry_now/']").count() == 0      # an exported record is not retried
    page.screenshot(path=os.path.join(artifacts_dir, "record-2-page.png"), full_page=True)


def test_a_sync_run_previews_then_counts(page, live_server, artifacts_dir, booked):
    org, conn, exp, receipt, record = booked
    Connection.objects.filter(pk=conn.pk).update(active=True)
    approve(org, expense("exp_old", date="2026-10-01"), rid="rpt_old")
    admin_login(page, live_server)
    page.goto(f"{live_server.url}/admin/exports/syncrun/add/")
    page.select_option("select[name=connection]", str(conn.pk))
    page.fill("input[name=date_from]", "2026-11-01")
    page.fill("input[name=date_to]", "2026-11-30")
    page.locator("button[name=_save]").click()
    page.wait_for_load_state()
    assert page.locator("[data-test=preview-total]").inner_text() == "1"   # exp_old is outside the range
    page.screenshot(path=os.path.join(artifacts_dir, "syncrun-1-preview.png"), full_page=True)
    assert not SyncRun.objects.exists()
    page.get_by_role("button", name="Start the sync").click()
    page.wait_for_load_state()
    run = SyncRun.objects.get()
    assert (run.date_from, run.date_to) == (date(2026, 11, 1), date(2026, 11, 30))
    page.goto(f"{live_server.url}/admin/exports/syncrun/{run.pk}/change/")
    assert page.locator("[data-counter=found]").is_visible()
    assert page.locator("button[name=_save]").count() == 0
    page.screenshot(path=os.path.join(artifacts_dir, "syncrun-2-live.png"), full_page=True)


def test_in_arabic_a_record_keeps_its_dates_and_a_connection_its_address(page, live_server, artifacts_dir, booked):
    """Right to left: the Arabic description's date read 03-01-2026, the status history's arrow pointed
    back at where the record came from, and the connection's address read "/http://127.0.0.1:9"."""
    from exports.status_log import StatusChange

    org, conn, exp, receipt, record = booked
    StatusChange.objects.create(record=record, at=timezone.now(), from_status="pending", to_status="exported",
                                why="pushed")
    admin_login(page, live_server)
    page.goto(f"{live_server.url}/admin/exports/exportrecord/{record.pk}/change/")
    page.locator("#nav-sidebar, nav, aside").locator("text=admin@example.com").first.click()
    page.locator("button", has_text="العربيّة").first.click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("dir") == "rtl"
    arabic = page.locator("[lang=ar][dir=auto]", has_text="مكافأة سائق").first
    assert arabic.locator("span[dir=ltr]").inner_text() == "2026-01-03"
    icon = page.locator("#nav-sidebar-apps .material-symbols-outlined.mr-3").first   # space between icon and label
    assert icon.evaluate("e => getComputedStyle(e).marginLeft") == "12px"
    arrow = page.locator("[data-test=status-history] .flow-arrow").first
    assert arrow.evaluate("e => getComputedStyle(e).transform") != "none"     # mirrored: it points left
    payload = page.locator("pre", has_text="EXPENSICO-exp_rec-v1").first    # JSON reads left to right
    assert payload.evaluate("e => getComputedStyle(e).direction") == "ltr"
    page.screenshot(path=os.path.join(artifacts_dir, "record-3-arabic.png"), full_page=True)
    page.goto(f"{live_server.url}/admin/connectors/connection/{conn.pk}/change/")
    url = page.locator("input[name=base_url]")
    assert url.evaluate("e => getComputedStyle(e).direction") == "ltr"
    assert page.locator("input[name=api_key]").count() == 1 and page.locator("input[name=client_secret]").count() == 0
    page.screenshot(path=os.path.join(artifacts_dir, "connection-arabic.png"), full_page=True)
