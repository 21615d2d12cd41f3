"""In Chromium, in Arabic: a review item the worker's pre-flight held (an inactive account, a
currency the vendor has not enabled) reads the findings in Arabic, the account's and the vendor's
names as they are. Screenshot: test-artifacts/admin-arabic-review-item-preflight.png."""

import pytest

from connectors.preflight import MetaAccount, VendorMetadata, entry_findings
from exports.models import ReviewItem
from exports.services import preflight
from exports.services.worker import records_work_due
from tests.e2e.test_admin_arabic import _absent, _shot, _to_arabic, _visible
from tests.exports.conftest import _fake_vendor_registered, approve, conn, expense, org, vendor  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_preflight_failed_review_item_reads_in_arabic(page, live_server, artifacts_dir, org, conn, vendor,  # noqa: F811
                                                        monkeypatch):
    meta = VendorMetadata(accounts={"acc-claims": MetaAccount("acc-claims", "2100 Employee claims"),
                                    "acc-travel": MetaAccount("acc-travel", "6100 Travel", active=False)},
                          currencies=frozenset({"USD"}))
    monkeypatch.setattr(preflight, "entry_check",
                        lambda *, connection, entry: entry_findings(entry, meta, vendor="Fake books"))
    approve(org, expense("exp_pre"), rid="rpt_pre")
    records_work_due(limit=50)
    item = ReviewItem.objects.get(reason=ReviewItem.Reason.PREFLIGHT_FAILED)
    _to_arabic(page, live_server)
    page.goto(f"{live_server.url}/admin/exports/reviewitem/{item.pk}/change/")
    _visible(page, "العملة: العملة SAR غير مفعّلة في Fake books")
    _shot(page, artifacts_dir, "review-item-preflight")
    # The page shows the whole detail: the second finding too.
    _visible(page, "الحساب 6100 Travel غير نشط (موقوف) في Fake books")
    _absent(page, "Pre-flight", "currency:", "is not enabled", "inactive (blocked)", "reactivate", "base currency")
