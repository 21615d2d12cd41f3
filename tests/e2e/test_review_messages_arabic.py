"""In Chromium, in Arabic: a review item held for a missing receipt reads our Arabic hold text (the
rule's name as it was entered), not the English stored beside its code. Screenshot:
test-artifacts/admin-arabic-review-item-hold.png."""

import pytest

from exports.models import ReviewItem
from exports.services.worker import records_work_due
from mappings.models import HoldRule
from tests.e2e.test_admin_arabic import _absent, _shot, _to_arabic, _visible
from tests.exports.conftest import _fake_vendor_registered, approve, conn, expense, org, vendor  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_held_review_item_reads_in_arabic(page, live_server, artifacts_dir, org, conn, vendor):  # noqa: F811
    HoldRule.objects.create(connection=conn, name="Receipt needed", missing_receipt=True)
    approve(org, expense("exp_r", amount="80.00", receipts=[], description_ar="مكافأة سائق - 2026-01-03"),
            rid="rpt_r", employee=("emp_2", "خالد"))
    records_work_due(limit=50)
    item = ReviewItem.objects.get(reason=ReviewItem.Reason.MISSING_RECEIPT)
    _to_arabic(page, live_server)
    page.goto(f"{live_server.url}/admin/exports/reviewitem/{item.pk}/change/")
    _shot(page, artifacts_dir, "review-item-hold")
    _visible(page, "محجوز (إيصال مفقود): Receipt needed")
    _absent(page, "Held (missing receipt)")
    page.goto(f"{live_server.url}/admin/exports/reviewitem/")
    _visible(page, "محجوز (إيصال مفقود): Receipt needed")
    _absent(page, "Held (missing receipt)")
