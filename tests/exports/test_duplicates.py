"""Duplicate detection on content: held or exported-and-flagged, and a person's decision sticks."""

import pytest

from exports.models import DuplicateSettings, ExportRecord, ReviewItem
from exports.services.review import ReviewError, review_item_resolve
from exports.services.worker import records_work_due
from exports.transitions import Status

from .conftest import approve, expense

pytestmark = pytest.mark.django_db


def work():
    return records_work_due(limit=100)


def twins(org, **over):
    approve(org, expense("exp_1", merchant="Careem", **over), expense("exp_2", merchant=" careem ", **over))


def test_same_employee_merchant_amount_currency_and_date_holds_the_later_one(org, conn, vendor):
    twins(org)
    assert work() == {"exported": 1, "needs_review": 1}
    item = ReviewItem.objects.get()
    assert item.reason == ReviewItem.Reason.POSSIBLE_DUPLICATE and item.record.source_id == "exp_2"
    assert item.context["duplicates"] == [{"expense": "exp_1", "on": "content"}]
    assert list(vendor.documents) == ["EXPENSICO-exp_1-v1"]


def test_different_amount_is_not_a_duplicate(org, conn, vendor):
    approve(org, expense("exp_1", merchant="Careem"), expense("exp_2", merchant="Careem", amount="116.00"))
    assert work() == {"exported": 2}


def test_same_receipt_hash_is_a_duplicate_whatever_the_content(org, conn, vendor):
    shared = [{"id": "rcp_x", "filename": "r.pdf", "content_type": "application/pdf", "size": 10,
               "sha256": "b" * 64, "url": "https://files.invalid/r.pdf"}]
    approve(org, expense("exp_1", receipts=shared))
    approve(org, expense("exp_9", amount="20.00", receipts=[{**shared[0], "id": "rcp_y"}]), rid="rpt_2",
            employee=("emp_2", "Sami"))
    assert work() == {"exported": 1, "needs_review": 1}
    item = ReviewItem.objects.get()
    assert item.record.source_id == "exp_9" and item.context["duplicates"] == [{"expense": "exp_1", "on": "receipt"}]


def test_a_person_clearing_the_hold_is_logged_and_the_record_then_exports(org, conn, vendor, admin_user):
    twins(org)
    work()
    item = ReviewItem.objects.get()
    review_item_resolve(item=item, resolution=ReviewItem.Resolution.RETRIED, by=admin_user, note="two rides")
    assert work() == {"exported": 1}
    item.refresh_from_db()
    assert (item.resolved_by, item.resolution_note) == (admin_user, "two rides")
    assert ExportRecord.objects.filter(status=Status.EXPORTED).count() == 2


def test_export_and_flag_books_it_and_opens_an_item_to_acknowledge(org, conn, vendor, admin_user):
    DuplicateSettings.objects.create(organization=org, policy="flag")
    twins(org)
    assert work() == {"exported": 2}
    item = ReviewItem.objects.get()
    assert item.reason == ReviewItem.Reason.POSSIBLE_DUPLICATE and item.is_warning
    assert item.record.status == Status.EXPORTED
    with pytest.raises(ReviewError):
        review_item_resolve(item=item, resolution=ReviewItem.Resolution.RETRIED, by=admin_user)
    review_item_resolve(item=item, resolution=ReviewItem.Resolution.ACKNOWLEDGED, by=admin_user, note="ok")
    assert item.record.status == Status.EXPORTED


def test_the_setting_is_audited(org):
    settings = DuplicateSettings.objects.create(organization=org, policy="flag")
    settings.policy = "hold"
    settings.save()
    assert [h.policy for h in settings.history.order_by("history_id")] == ["flag", "hold"]
