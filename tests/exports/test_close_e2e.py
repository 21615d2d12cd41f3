"""In a real browser: the Close section's month list, a month's checklist with a failing item,
signing a clean month off, the reopen form and the evidence pack's download. Screenshots go to
test-artifacts/."""

import hashlib
import io
import json
import os
import zipfile

import pytest

from exports.models import MonthClose
from exports.services.worker import records_work_due
from tests.conftest import admin_login

from .conftest import approve, expense

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_close_section_month_list_checklist_and_sign_off(page, live_server, artifacts_dir, org, conn, vendor):
    approve(org, expense("exp_1"))
    records_work_due()
    approve(org, expense("exp_2", category="UNMAPPED", date="2026-10-14"), rid="rpt_2")
    records_work_due()

    admin_login(page, live_server)
    page.goto(f"{live_server.url}/admin/exports/monthclose/months/")
    assert page.locator("#close-months").is_visible()
    assert page.locator("nav a, aside a", has_text="Months").first.is_visible()
    page.screenshot(path=os.path.join(artifacts_dir, "close-months.png"), full_page=True)

    page.goto(f"{live_server.url}/admin/exports/monthclose/month/{org.pk}/2026-10/")
    assert page.locator("#close-checklist", has_text="No unmapped categories").is_visible()
    assert page.locator("#checklist-as-of", has_text="As of").is_visible()      # read from the stored result
    page.screenshot(path=os.path.join(artifacts_dir, "close-checklist-failing.png"), full_page=True)

    page.goto(f"{live_server.url}/admin/exports/monthclose/month/{org.pk}/2026-11/")
    page.fill("textarea[name=comment]", "November reviewed")
    page.locator("button[type=submit]", has_text="Sign off November 2026").click()
    page.wait_for_url(f"{live_server.url}/admin/exports/monthclose/month/{org.pk}/2026-11/")
    assert MonthClose.objects.get(period="2026-11-01").locked
    assert page.locator("text=Signed off · locked").first.is_visible()
    assert page.locator("textarea[name=reason]").is_visible()   # the superuser may reopen
    page.screenshot(path=os.path.join(artifacts_dir, "close-signed-off.png"), full_page=True)

    page.locator("#evidence-links button", has_text="Build").click()   # a POST; built inline in tests
    page.wait_for_url(f"{live_server.url}/admin/exports/monthclose/month/{org.pk}/2026-11/")
    link = page.locator("#evidence-links a", has_text=conn.name)
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename.endswith(".zip")
    with zipfile.ZipFile(io.BytesIO(open(download.path(), "rb").read())) as pack:
        manifest = json.loads(pack.read("manifest.json"))
        hashes = {name: hashlib.sha256(pack.read(name)).hexdigest() for name in pack.namelist()
                  if name != "manifest.json"}
    assert manifest["period"] == "2026-11" and "checklist.json" in hashes
    assert manifest["files"] == hashes
    page.reload()                                               # the built pack: when, how big, its SHA-256
    assert page.locator("#evidence-links", has_text="SHA-256").is_visible()
    page.locator("#evidence-links").scroll_into_view_if_needed()
    page.screenshot(path=os.path.join(artifacts_dir, "close-evidence-download.png"), full_page=True)
