"""In a real browser, in Arabic: the connection list, the export records list, a review item and the
mapping set page are right to left, in our Arabic words (models, fields, filters, badges, columns),
with the system's display name instead of its registry key, amounts in their currency's decimals
(SAR 2, KWD 3, JPY 0) left to right, and Arabic text in its own direction. Screenshots go to
test-artifacts/admin-arabic-*.png."""

import os
import re

import pytest
from playwright.sync_api import expect

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
    # expect() waits: under load a tab's content (Alpine) was not shown yet when counted once.
    for text in texts:
        expect(page.locator(f"text={text} >> visible=true").first).to_be_visible()


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


# The walk: every main page in Arabic, screenshotted, with no English words of ours or of the packages
# we translate for (django-unfold) left on it. The English is read from the catalogues, not listed here.
def _english_words() -> set[str]:
    from tests.core.test_translations import LOCALE, catalogue

    words = set()
    for po in (LOCALE / "ar" / "LC_MESSAGES" / "django.po",
               LOCALE.parent / "locale_packages" / "ar" / "LC_MESSAGES" / "django.po"):
        for msgid, msgstr in catalogue(po).items():
            msgid = msgid.strip()
            if msgstr.strip() != msgid and re.search(r"[A-Za-z]{3}", msgid) and not re.search(r"%\(|%s|\{", msgid):
                words.add(msgid)
    return words


TEXTS = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, el = node.parentElement;
    if (!el || ['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE'].includes(el.tagName)) continue;
    if (el.closest('.material-symbols-outlined, [aria-hidden=true], [dir=auto]')) continue;  // icons, user data
    const text = node.textContent.trim();
    if (text && el.offsetParent !== null) out.push(text);
  }
  for (const el of document.querySelectorAll('[placeholder], [title], [aria-label]')) if (!el.closest('[dir=auto]'))
    for (const name of ['placeholder', 'title', 'aria-label'])
      if (el.getAttribute(name) && el.offsetParent !== null) out.push(el.getAttribute(name).trim());
  return out;
}"""


# The fixture's own data that happens to be a msgid of ours too (user data stays as it was written).
FIXTURE_DATA = {"Driver honorarium"}


def _walk_pages(org, conn):  # noqa: F811
    from django.db import connection as db

    from connectors.models import Connection
    from exports.models import ExportRecord, ReviewItem

    wafeq = Connection.objects.create(organization=org, system="wafeq", name="Wafeq books", active=False,
                                      base_url="https://api.wafeq.com/v1", auth_method="api_key")
    item, record = ReviewItem.objects.first(), ExportRecord.objects.first()
    month = f"/admin/exports/monthclose/month/{org.pk}/{record.document_date:%Y-%m}/"
    return [("dashboard", "/admin/"), ("connection-systems", "/admin/connectors/connection/add/"),
            ("connection-form", "/admin/connectors/connection/add/?system=wafeq&auth=api_key"),
            ("connection-setup", f"/admin/connectors/connection/{wafeq.pk}/setup/"),
            ("connection-change", f"/admin/connectors/connection/{conn.pk}/change/"),
            ("records", "/admin/exports/exportrecord/"), ("record", f"/admin/exports/exportrecord/{record.pk}/change/"),
            ("review-items", "/admin/exports/reviewitem/"), ("review", f"/admin/exports/reviewitem/{item.pk}/change/"),
            ("mapping-sets", "/admin/mappings/mappingset/"), ("hold-rules", "/admin/mappings/holdrule/"),
            ("coding-rules", "/admin/mappings/codingrule/"), ("close-months", "/admin/exports/monthclose/months/"),
            *([("close-month", month)] if db.vendor == "postgresql" else []),   # DISTINCT ON: PostgreSQL's page
            ("reconciliation", "/admin/exports/reconciliation/add/"), ("evidence-packs", "/admin/exports/evidencepack/"),
            ("model-page", "/admin/mappings/categorisermodel/"), ("call-log", "/admin/connectors/calllog/"),
            ("sync-runs", "/admin/exports/syncrun/"), ("notifications", "/admin/notify/notification/"),
            ("preferences", "/notifications/preferences/"), ("account-email", "/accounts/email/"),
            ("account-2fa", "/accounts/2fa/"), ("account-password", "/accounts/password/change/")]


def test_the_arabic_walk_leaves_no_english_of_ours_on_the_main_pages(
        page, live_server, artifacts_dir, books, org, conn):  # noqa: F811
    english = _english_words()
    assert {"Apply Filters", "Reset filters", "Save accounts", "Start date and activation"} <= english
    pages = _walk_pages(org, conn)
    _to_arabic(page, live_server)
    left = {}
    for name, url in pages:
        page.goto(f"{live_server.url}{url}")
        expect(page.locator("html")).to_have_attribute("dir", "rtl")
        _shot(page, artifacts_dir, f"walk-{name}")
        found = sorted({text for text in page.evaluate(TEXTS) if text in english} - FIXTURE_DATA)
        if found:
            left[name] = found
    assert left == {}, "English left on these pages in Arabic (mark and translate it)"
