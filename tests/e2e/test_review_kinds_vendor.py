"""In a real browser: the kinds of review item the vendor's answers make, each made by the export
engine and resolved from the item's own page as a finance admin would: a revoked key re-authorised
and the record retried, a document the vendor already holds booked manually under the vendor's
number, a failure on the vendor's side retried, a vendor that kept failing retried, and an import
the vendor's job failed sent again. Each item shows its document, the vendor's words and the one
action that fixes it. Screenshots go to test-artifacts/."""

import os
import re

import pytest
from django.utils import timezone

from connectors import base, errors
from connectors.base import CheckResult, ImportFailure
from connectors.entry import reference_for
from connectors.http import mark_expired
from connectors.models import Connection
from exports.models import ExportRecord, ReviewItem
from exports.services.import_failures import import_failures_poll_due
from exports.services.worker import records_work_due
from exports.transitions import Status
from tests.conftest import admin_login
from tests.exports import fake
from tests.exports.conftest import _fake_vendor_registered, approve, conn, expense, org, vendor  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
R = ReviewItem.Reason
BUTTONS = ("Retry", "Book without receipt", "Receipt arrived", "Approve and export", "Accept suggestion",
           "Acknowledge", "Booked manually", "Re-authorise the connection")


class Vendor(fake.FakeConnector):
    """The fake ledger with what these kinds need: an API key it checks (a wrong one is a 401, and
    the HTTP edge marks the connection expired), documents booked there by hand (our reference is
    then taken), an error it does not classify, and an import job that can fail after accepting."""

    polls_import_failures = True

    def _signed_in(self):
        wanted = getattr(self.vendor, "api_key", None)
        if wanted is not None and self.connection.api_key != wanted:
            mark_expired(self.connection, "401: API key revoked")
            raise errors.AuthExpired("401: API key revoked", status=401)

    def check(self):
        self._signed_in()
        return CheckResult(ok=True, organization_name="Fake books Ltd")

    def push(self, entry, idempotency_key):
        self._signed_in()
        v = self.vendor
        if v.faults and isinstance(v.faults[0], Exception):
            v.pushes += 1
            raise v.faults.pop(0)
        by_hand = getattr(v, "by_hand", {})
        if entry.reference in by_hand:
            v.pushes += 1
            raise errors.Permanent(f"reference {entry.reference} is already used by voucher {by_hand[entry.reference]}",
                                   code="duplicate", field="reference", status=409)
        ref = v.by_key.get(idempotency_key)
        if ref is not None and not v.documents[ref]["live"]:   # its import failed: this one is imported anew
            del v.by_key[idempotency_key]
        return super().push(entry, idempotency_key)

    def import_failures(self, *, since=None):
        return [f for f in getattr(self.vendor, "failed_imports", []) if not since or f.created_at >= since]


@pytest.fixture(autouse=True)
def _vendor_registered(_fake_vendor_registered):  # noqa: F811
    base._registry[fake.FakeConnector.system] = Vendor


def _shot(page, artifacts_dir, name):
    page.screenshot(path=os.path.join(artifacts_dir, name), full_page=True)


def _work_due():
    """The worker's next passes: records waiting for a retry are due now."""
    ExportRecord.objects.filter(status=Status.RETRY).update(next_attempt_at=timezone.now())
    records_work_due(limit=50)


def _open_item(page, live_server, artifacts_dir, item, name, *texts):
    """The queue lists the item with its context; its page shows the document, the vendor's words
    and its fix. Returns the changelist URL."""
    changelist = f"{live_server.url}/admin/exports/reviewitem/"
    page.goto(f"{changelist}?reason={item.reason}")
    row = page.locator("#result_list tbody tr")
    assert row.count() == 1
    for text in (item.get_reason_display(), *texts):   # the reason in words, not its key
        assert row.locator(f"text={text}").first.is_visible(), text
    assert "{" not in row.inner_text()
    _shot(page, artifacts_dir, f"review-queue-{name}.png")
    page.goto(f"{changelist}{item.pk}/change/")
    for text in (item.get_reason_display(), "Fake books", *texts):
        assert page.locator(f"text={text}").first.is_visible(), text
    _shot(page, artifacts_dir, f"review-item-{name}.png")
    return changelist


def _buttons(page) -> set[str]:
    """The item's own action buttons and links (object tools and the fix column)."""
    found = set()
    for text in BUTTONS:
        if page.locator("a:visible, button:visible", has_text=text).count():
            found.add(text)
    return found


def _confirm(page, url_after):
    page.locator("#dialog button[type=submit]").click()
    page.wait_for_url(url_after)


def test_auth_re_authorise_the_connection_then_retry(page, live_server, artifacts_dir, org, conn, vendor,  # noqa: F811
                                                     settings):
    # The fake ledger's address may receive a key, as a sandbox's does in a deployment that allows it.
    settings.VENDOR_HOSTS_ALLOW = [*settings.VENDOR_HOSTS_ALLOW, "fake.invalid"]
    vendor.api_key = "key-2026-12"          # the vendor revoked the key the connection holds
    approve(org, expense("exp_a", amount="420.00", merchant="Saudia"), rid="rpt_a")
    item = ReviewItem.objects.get()
    record = item.record
    assert (item.reason, record.status, vendor.documents) == (R.AUTH, Status.NEEDS_REVIEW, {})
    conn.refresh_from_db()
    assert conn.status == Connection.Status.EXPIRED

    admin_login(page, live_server)
    changelist = _open_item(page, live_server, artifacts_dir, item, "auth", "420.00 SAR", "Saudia",
                            "401: API key revoked", "Re-authorise the connection")
    assert _buttons(page) == {"Re-authorise the connection", "Retry"}

    # The fix: the connection's page, a new key, saved and tested; then the item's Retry.
    page.locator("a", has_text="Re-authorise the connection").first.click()
    page.wait_for_url(f"**/admin/connectors/connection/{conn.pk}/change/")
    page.locator("input[name=api_key]").fill("key-2026-12")
    _shot(page, artifacts_dir, "review-item-auth-new-key.png")
    page.locator("button[name=_continue]").click()
    page.locator("text=was changed successfully").first.wait_for()
    conn.refresh_from_db()
    assert conn.api_key == "key-2026-12"
    page.locator("a:not([href])", has_text=re.compile(r"\bMore\b")).click()   # the connection's menu
    page.locator("a", has_text="Test connection").first.click()
    page.locator("#dialog button[type=submit]").click()
    page.locator("text=Check: Fake books Ltd").first.wait_for()
    _shot(page, artifacts_dir, "review-item-auth-connection-tested.png")
    conn.refresh_from_db()
    assert conn.status == Connection.Status.CONNECTED

    page.goto(f"{changelist}{item.pk}/change/")
    page.locator("a", has_text="Retry").first.click()
    _confirm(page, changelist)
    item.refresh_from_db()
    record.refresh_from_db()
    assert item.resolution == ReviewItem.Resolution.RETRIED
    assert record.status == Status.EXPORTED and vendor.documents[record.reference]["id"] == record.external_id
    _shot(page, artifacts_dir, "review-item-auth-after.png")


def test_duplicate_conflict_booked_manually_under_the_vendors_number(page, live_server, artifacts_dir, org, vendor):  # noqa: F811
    vendor.by_hand = {reference_for("exp_d", 1): "MAN-0042"}   # someone booked it in the vendor by hand
    approve(org, expense("exp_d", amount="975.25", merchant="Marriott"), rid="rpt_d")
    item = ReviewItem.objects.get()
    assert (item.reason, item.severity) == (R.DUPLICATE_CONFLICT, ReviewItem.Severity.HIGH)

    admin_login(page, live_server)
    changelist = _open_item(page, live_server, artifacts_dir, item, "duplicate", "975.25 SAR", "Marriott",
                            "already used by voucher MAN-0042", "Booked manually")
    # Retrying would only be refused again: booking it manually is the one fix offered.
    assert _buttons(page) == {"Booked manually"}

    page.locator("a", has_text="Booked manually").first.click()
    page.locator("#dialog input[name=external_reference]").fill("MAN-0042")
    page.locator("#dialog textarea[name=note]").fill("Booked by hand in the ledger on 3 Nov")
    _shot(page, artifacts_dir, "review-item-duplicate-book-manually.png")
    _confirm(page, changelist)
    item.refresh_from_db()
    record = ExportRecord.objects.get(pk=item.record_id)
    assert (item.resolution, item.manual_external_reference) == (ReviewItem.Resolution.BOOKED_MANUALLY, "MAN-0042")
    assert (record.status, record.external_id, record.last_error) == (Status.EXPORTED, "MAN-0042", "")
    assert vendor.pushes == 1 and vendor.documents == {}   # nothing booked twice


def _retried_and_exported(page, changelist, item, books):
    """The item offers Retry only; retried from its page, its record exports and the vendor holds it."""
    assert _buttons(page) == {"Retry"}
    page.locator("a", has_text="Retry").first.click()
    _confirm(page, changelist)
    item.refresh_from_db()
    record = ExportRecord.objects.get(pk=item.record_id)
    assert item.resolution == ReviewItem.Resolution.RETRIED
    assert record.status == Status.EXPORTED and books.documents[record.reference]["id"] == record.external_id


def test_remote_error_retried_and_the_record_exports(page, live_server, artifacts_dir, org, vendor):  # noqa: F811
    vendor.faults = [errors.ConnectorError("posting service failed on the vendor's side (incident 7781)",
                                           status=502)]
    approve(org, expense("exp_r", amount="64.10", merchant="Albaik"), rid="rpt_r")
    item = ReviewItem.objects.get()
    assert item.reason == R.REMOTE_ERROR

    admin_login(page, live_server)
    changelist = _open_item(page, live_server, artifacts_dir, item, "remote-error", "64.10 SAR", "Albaik",
                            "incident 7781")
    _retried_and_exported(page, changelist, item, vendor)


def test_retries_exhausted_retried_and_the_record_exports(page, live_server, artifacts_dir, org, vendor, settings):  # noqa: F811
    settings.EXPORTS_MAX_ATTEMPTS = 3
    vendor.faults = ["transient"] * 3
    approve(org, expense("exp_x", amount="1500.00", merchant="Almosafer"), rid="rpt_x")
    _work_due()
    _work_due()
    item = ReviewItem.objects.get()
    assert (item.reason, item.record.attempts) == (R.RETRIES_EXHAUSTED, 3)

    admin_login(page, live_server)
    changelist = _open_item(page, live_server, artifacts_dir, item, "retries-exhausted", "1,500.00 SAR",
                            "Almosafer", "gave up after 3 attempts")
    _retried_and_exported(page, changelist, item, vendor)


def test_import_failed_sent_again_once_corrected(page, live_server, artifacts_dir, org, vendor):  # noqa: F811
    approve(org, expense("exp_i", amount="230.00", merchant="Jarir"), rid="rpt_i")
    record = ExportRecord.objects.get()
    first = record.external_id
    assert record.status == Status.EXPORTED
    # The vendor's import job then refuses the document: nothing is booked; the poll finds it.
    vendor.documents[record.reference]["live"] = False
    vendor.failed_imports = [ImportFailure(error_id="err-1", reference=record.reference, level="ERROR",
                                           message="Account acc-travel is blocked for posting",
                                           created_at="2026-11-03T10:05:00+00:00")]
    assert import_failures_poll_due(force=True)["opened"] == 1
    item = ReviewItem.objects.get()
    assert (item.reason, item.severity) == (R.IMPORT_FAILED, ReviewItem.Severity.HIGH)

    admin_login(page, live_server)
    changelist = _open_item(page, live_server, artifacts_dir, item, "import-failed", "230.00 SAR", "Jarir",
                            "Account acc-travel is blocked for posting")
    assert _buttons(page) == {"Retry"}

    # Corrected in the vendor (the account unblocked), then sent again from the item.
    page.locator("a", has_text="Retry").first.click()
    _confirm(page, changelist)
    item.refresh_from_db()
    record.refresh_from_db()
    assert item.resolution == ReviewItem.Resolution.RETRIED
    assert record.status == Status.EXPORTED and record.external_id != first
    booked = vendor.documents[record.reference]
    assert (booked["id"], booked["live"]) == (record.external_id, True)   # booked once, live
