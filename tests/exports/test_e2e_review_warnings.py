"""In a real browser (Debian's Chromium via Playwright): the review queue shows an exported-with-
a-warning item next to a parked one, a person acknowledges the warning from its page, and the
export records list filters records booked with warnings. Screenshots go to test-artifacts/."""

import os

import pytest

from exports.models import ReviewItem
from exports.services.worker import records_work_due
from tests.conftest import admin_login

from .conftest import approve, expense

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_person_acknowledges_a_vendor_warning(page, live_server, artifacts_dir, org, conn, vendor):
    vendor.warnings = ("saved as a draft journal in Workday (submit is off)",)
    approve(org, expense("exp_1"))
    records_work_due()
    vendor.warnings, vendor.faults = (), ["permanent"]
    approve(org, expense("exp_2", amount="40.00"), rid="rpt_2")
    records_work_due()
    warning = ReviewItem.objects.get(reason=ReviewItem.Reason.VENDOR_WARNING)

    admin_login(page, live_server)
    page.goto(f"{live_server.url}/admin/exports/reviewitem/")
    assert page.locator("text=Exported with a warning").first.is_visible()
    page.screenshot(path=os.path.join(artifacts_dir, "review-queue-warnings.png"), full_page=True)

    page.goto(f"{live_server.url}/admin/exports/reviewitem/{warning.pk}/change/")
    page.locator("a, button", has_text="Acknowledge").first.click()
    # The button only asks (Unfold's dialog); the dialog's POST form acts.
    page.locator("#dialog button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/admin/exports/reviewitem/")
    warning.refresh_from_db()
    assert warning.resolution == ReviewItem.Resolution.ACKNOWLEDGED and not warning.is_open
    assert warning.record.status == "exported"

    page.goto(f"{live_server.url}/admin/exports/exportrecord/")
    page.screenshot(path=os.path.join(artifacts_dir, "export-records-warnings.png"), full_page=True)
    assert page.locator("text=exp_1").first.is_visible() or page.locator("text=EXPENSICO-exp_1").first.is_visible()
