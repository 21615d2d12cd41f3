"""In a real browser, the review kinds that come from checks around the export rather than from a
vendor's refusal: a document changed in the vendor after booking (verification), a possible
duplicate (the duplicate detector), a closed period (our own signed-off month and the vendor's
lock), a pre-flight refusal (the vendor's metadata) and an anomaly (the anomaly scanner). Each is
made by the real engine, read on the queue and on its own page, and fixed through the UI as a
finance admin would. Screenshots go to test-artifacts/."""

import os
from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from connectors import base
from connectors.preflight import MetaAccount, VendorMetadata
from exports.anomalies.models import AnomalyFlag
from exports.anomalies.services import anomaly_scan, anomaly_setting_save
from exports.models import ExportRecord, MonthClose, ReviewItem
from exports.reconcile.verify import records_verify_due
from exports.services.worker import records_work_due
from mappings.models import CategoryMapping, RemoteCatalogItem
from tests.conftest import admin_login
from tests.exports import fake
from tests.exports.conftest import _fake_vendor_registered, approve, conn, expense, org, vendor  # noqa: F401
from tests.exports.reconcile import fake_ledger

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
R = ReviewItem.Reason
QUEUE = "/admin/exports/reviewitem/"


class PreflightFake(fake.FakeConnector):
    """The fake vendor with a chart of accounts to check against: acc-travel is blocked."""

    system = "fake_pf"
    label = "Fake ledger with pre-flight"
    offers_preflight = True

    def preflight_metadata(self):
        accounts = {"acc-travel": MetaAccount("acc-travel", "6100 Travel", active=False),
                    "acc-travel-2": MetaAccount("acc-travel-2", "6110 Travel (2026)"),
                    "acc-meals": MetaAccount("acc-meals", "6200 Meals"),
                    "acc-claims": MetaAccount("acc-claims", "2100 Employee claims"),
                    "acc-balance": MetaAccount("acc-balance", "2110 Employee balances"),
                    "bank-1": MetaAccount("bank-1", "1010 Bank", "BANK")}
        return VendorMetadata(accounts=accounts)


@pytest.fixture
def other_vendors():
    for cls in (PreflightFake, fake_ledger.ReadBackFake):
        base._registry[cls.system] = cls
    yield
    for cls in (PreflightFake, fake_ledger.ReadBackFake):
        base._registry.pop(cls.system, None)


@pytest.fixture(autouse=True)
def _quick(page):
    page.set_default_timeout(8000)


def _work():
    """The worker's turn (approving may already have sent the records inline)."""
    records_work_due(limit=10)


def _shot(page, artifacts_dir, name):
    page.screenshot(path=os.path.join(artifacts_dir, name), full_page=True)


def _open(page, live_server, item, artifacts_dir, name):
    """The queue row and the item's page: the item's words, never raw JSON."""
    page.goto(f"{live_server.url}{QUEUE}")
    row = page.locator("#result_list tbody tr", has=page.locator(f"input[value='{item.pk}']"))
    assert row.count() == 1
    badge = row.locator(".field-said > span").first.inner_text().lower()   # the badge over the words
    assert badge == item.get_reason_display().lower(), badge   # its words, not its key (VENDOR_MISMATCH)
    _shot(page, artifacts_dir, f"review-{name}-queue.png")
    page.goto(f"{live_server.url}{QUEUE}{item.pk}/change/")
    body = page.locator("body")
    assert '{"' not in body.inner_text()
    return row, body


def _confirm(page, url_after):
    page.locator("#dialog button[type=submit]").click()
    page.wait_for_url(url_after)


def test_a_document_changed_in_the_vendor_after_booking_is_checked_then_acknowledged(
        page, live_server, artifacts_dir, org, other_vendors):  # noqa: F811
    from tests.exports.reconcile.conftest import ledger_connection

    books = ledger_connection(org)
    approve(org, expense("exp_m", amount="40.00", category="MEALS", merchant="Albaik"))
    records_work_due(limit=10)
    record = ExportRecord.objects.get()
    fake_ledger.tamper_edit_amount(books, record.external_id, Decimal("41.00"))
    assert records_verify_due()["changed"] == 1
    item = ReviewItem.objects.get(reason=R.VENDOR_MISMATCH)

    admin_login(page, live_server)
    row, body = _open(page, live_server, item, artifacts_dir, "vendor-mismatch")
    for text in ("40.00 SAR", "Albaik", "amount 40.00 → 41.00", "Acknowledge"):
        assert body.locator(f"text={text}").first.is_visible(), text
    for absent in ("Retry", "Book without receipt", "Approve and export", "Other resolutions"):
        assert page.locator("a, button", has_text=absent).count() == 0, absent
    _shot(page, artifacts_dir, "review-vendor-mismatch-item.png")

    page.locator("a", has_text="Acknowledge").first.click()
    _shot(page, artifacts_dir, "review-vendor-mismatch-confirm.png")
    _confirm(page, f"{live_server.url}{QUEUE}")
    item.refresh_from_db()
    record.refresh_from_db()
    assert item.resolution == ReviewItem.Resolution.ACKNOWLEDGED and record.status == "exported"
    assert records_verify_due() == {"connections": 1}   # not asked about again


def test_a_possible_duplicate_is_compared_then_skipped(page, live_server, artifacts_dir, org, conn, vendor):  # noqa: F811
    approve(org, expense("exp_1", merchant="Careem", amount="115.00"),
            expense("exp_2", merchant="Careem", amount="115.00"))
    _work()
    item = ReviewItem.objects.get(reason=R.POSSIBLE_DUPLICATE)

    admin_login(page, live_server)
    row, body = _open(page, live_server, item, artifacts_dir, "possible-duplicate")
    for text in ("115.00 SAR", "Possible duplicate of exp_1", "Compare with exp_1", "Skip: it is a duplicate",
                 "Retry"):
        assert body.locator(f"text={text}").first.is_visible(), text
    assert page.locator("a, button", has_text="Acknowledge").count() == 0
    _shot(page, artifacts_dir, "review-possible-duplicate-item.png")

    page.locator("a", has_text="Compare with exp_1").click()        # the earlier expense, booked
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    assert "exp_1" in page.locator("#result_list").inner_text()
    page.go_back()
    page.locator("a", has_text="Skip: it is a duplicate").click()
    page.locator("textarea[name=reason]").fill("Same ride claimed twice: exp_1 is booked")
    _shot(page, artifacts_dir, "review-possible-duplicate-skip.png")
    page.locator("form button[type=submit]", has_text="Skip").click()
    page.wait_for_url(f"{live_server.url}{QUEUE}")
    item.refresh_from_db()
    assert item.resolution == ReviewItem.Resolution.SKIPPED
    assert ExportRecord.objects.get(pk=item.record_id).status == "cancelled"
    assert list(vendor.documents) == ["EXPENSICO-exp_1-v1"]     # booked once


def test_a_document_in_our_signed_off_month_is_sent_once_the_month_is_reopened(
        page, live_server, artifacts_dir, org, conn, vendor):  # noqa: F811
    MonthClose.objects.create(organization=org, period=date(2026, 11, 1), status=MonthClose.Status.SIGNED_OFF,
                              signed_off_at=timezone.now())
    approve(org, expense("exp_late", amount="230.00", merchant="Hilton"))
    _work()
    item = ReviewItem.objects.get(reason=R.PERIOD_CLOSED)

    admin_login(page, live_server)
    row, body = _open(page, live_server, item, artifacts_dir, "period-closed-ours")
    for text in ("230.00 SAR", "2026-11 is signed off", "Your organisation signed this month off",
                 "Reopen 2026-11 (month close)", "Retry"):
        assert body.locator(f"text={text}").first.is_visible(), text
    assert "reopen it in the vendor" not in body.inner_text()      # not the vendor's lock
    _shot(page, artifacts_dir, "review-period-closed-ours-item.png")

    page.locator("a", has_text="Reopen 2026-11 (month close)").click()
    page.locator("textarea[name=reason]").fill("A late hotel bill for November")
    page.locator("form button[type=submit]", has_text="Reopen").click()
    expect(page.locator("text=is reopened").first).to_be_visible()
    _shot(page, artifacts_dir, "review-period-closed-ours-reopened.png")
    page.goto(f"{live_server.url}{QUEUE}{item.pk}/change/")
    page.locator("a", has_text="Retry").first.click()
    _confirm(page, f"{live_server.url}{QUEUE}")
    _work()
    item.refresh_from_db()
    assert item.resolution == ReviewItem.Resolution.RETRIED
    assert ExportRecord.objects.get(pk=item.record_id).status == "exported"
    assert list(vendor.documents) == ["EXPENSICO-exp_late-v1"]


def test_a_document_in_the_vendors_closed_period_posts_on_the_next_open_day_after_the_policy_changes(
        page, live_server, artifacts_dir, org, conn, vendor):  # noqa: F811
    vendor.locked_through = date(2026, 11, 30)
    approve(org, expense("exp_nov", amount="75.25", merchant="Careem"))
    _work()
    item = ReviewItem.objects.get(reason=R.PERIOD_CLOSED)
    assert not vendor.documents

    admin_login(page, live_server)
    row, body = _open(page, live_server, item, artifacts_dir, "period-closed-vendor")
    for text in ("75.25 SAR", "2026-11-30", "Closed-period policy (or reopen the period in the vendor)", "Retry"):
        assert body.locator(f"text={text}").first.is_visible(), text
    _shot(page, artifacts_dir, "review-period-closed-vendor-item.png")

    page.locator("a", has_text="Closed-period policy").click()
    page.locator("select[name=closed_period]").select_option("next_open")
    _shot(page, artifacts_dir, "review-period-closed-vendor-policy.png")
    page.locator("button[name=_save]").click()
    page.wait_for_url(f"{live_server.url}/admin/exports/connectionclosepolicy/**")
    page.goto(f"{live_server.url}{QUEUE}{item.pk}/change/")
    page.locator("a", has_text="Retry").first.click()
    _confirm(page, f"{live_server.url}{QUEUE}")
    _work()
    _work()   # refused once more by the vendor, then re-dated to its next open day and sent
    record = ExportRecord.objects.get(pk=item.record_id)
    assert (record.status, record.posting_date) == ("exported", date(2026, 12, 1))
    assert list(vendor.documents) == ["EXPENSICO-exp_nov-v1"]


def test_a_preflight_refusal_names_the_field_and_the_mapping_fixes_it(
        page, live_server, artifacts_dir, org, other_vendors):  # noqa: F811
    from tests.exports.conftest import make_connection

    books = make_connection(org, name="Checked books")
    books.system = "fake_pf"
    books.save(update_fields=["system"])
    mapping = CategoryMapping.objects.create(connection=books, category_code="TRAVEL", account="acc-travel")
    for remote_id, code, name in (("acc-travel", "6100", "Travel"), ("acc-travel-2", "6110", "Travel (2026)")):
        RemoteCatalogItem.objects.create(connection=books, kind="accounts", remote_id=remote_id, code=code, name=name,
                                         classification="EXPENSE", refreshed_at=timezone.now())
    approve(org, expense("exp_pf", amount="88.00", merchant="Careem"))
    _work()
    item = ReviewItem.objects.get(reason=R.PREFLIGHT_FAILED)
    assert fake.vendor_for(books).pushes == 0       # nothing was sent

    admin_login(page, live_server)
    row, body = _open(page, live_server, item, artifacts_dir, "preflight")
    for text in ("88.00 SAR", "lines[0].account: account 6100 Travel is inactive (blocked)",
                 "map to an active account", "Correct the mapping · category TRAVEL", "Retry"):
        assert body.locator(f"text={text}").first.is_visible(), text
    _shot(page, artifacts_dir, "review-preflight-item.png")

    page.locator("a", has_text="Correct the mapping · category TRAVEL").click()
    page.wait_for_url(f"**/admin/mappings/categorymapping/{mapping.pk}/change/")
    page.locator("#id_account + .select2 .select2-selection").click()
    page.locator(".select2-container--open .select2-search__field").fill("2026")
    page.locator(".select2-results__option", has_text="Travel (2026)").click()
    _shot(page, artifacts_dir, "review-preflight-mapping.png")
    page.locator("button[name=_save]").click()
    page.wait_for_url(f"{live_server.url}/admin/mappings/categorymapping/**")
    item.refresh_from_db()
    assert item.resolution == ReviewItem.Resolution.FIXED_MAPPING      # the mapping sent it again by itself
    _work()
    assert ExportRecord.objects.get(pk=item.record_id).status == "exported"
    assert [d["entry"].lines[0].account for d in fake.vendor_for(books).documents.values()] == ["acc-travel-2"]


def test_an_anomaly_is_checked_then_dismissed_from_its_item(page, live_server, artifacts_dir, org, conn, vendor):  # noqa: F811
    anomaly_setting_save(organization=org, detector="weekend_spend", enabled=True)
    approve(org, expense("exp_fri", amount="640.00", merchant="Nusr-Et", category="MEALS", date="2026-11-06"))
    _work()
    assert ExportRecord.objects.get().status == "exported"
    assert anomaly_scan(organization=org, since=date(2026, 11, 1), until=date(2026, 11, 30)).attached == 1
    item = ReviewItem.objects.get(reason=R.ANOMALY)

    admin_login(page, live_server)
    row, body = _open(page, live_server, item, artifacts_dir, "anomaly")
    for text in ("640.00 SAR", "Nusr-Et", "on a Friday (weekend)", "Dismiss or confirm the anomaly flag"):
        assert body.locator(f"text={text}").first.is_visible(), text
    for absent in ("Acknowledge", "Retry", "Other resolutions"):   # acknowledging left the flag open
        assert page.locator("a, button", has_text=absent).count() == 0, absent
    _shot(page, artifacts_dir, "review-anomaly-item.png")

    page.locator("a", has_text="Dismiss or confirm the anomaly flag").click()
    page.locator("select[name=decision]").select_option("dismiss")
    page.locator("textarea[name=decision_reason]").fill("Team dinner with a client: agreed by the manager")
    _shot(page, artifacts_dir, "review-anomaly-flag.png")
    page.locator("button[name=_save]").click()
    page.wait_for_url(f"{live_server.url}/admin/exports/anomalyflag/**")
    item.refresh_from_db()
    flag = AnomalyFlag.objects.get()
    assert (flag.status, item.resolution) == (AnomalyFlag.Status.DISMISSED, ReviewItem.Resolution.ACKNOWLEDGED)
    assert ExportRecord.objects.get().status == "exported"
