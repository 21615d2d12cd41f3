"""Every reason's badge says the reason in words. A duplicate conflict is fixed by booking it
manually under the vendor's reference: its page offers that as its own button and its fix link
leads there, with no Retry (the vendor would refuse the same document again). Other parked items
keep Retry, and "Booked manually" in their menu."""

import re

import pytest
from django.urls import reverse
from unfold.utils import display_for_label

from exports.models import ReviewItem
from exports.review_columns import REASON_COLOURS
from exports.services.worker import records_work_due
from exports.transitions import Status

from .conftest import approve, expense

pytestmark = pytest.mark.django_db
R = ReviewItem.Reason


def url(name, item):
    return reverse(f"admin:exports_reviewitem_{name}", args=[item.pk])


@pytest.fixture
def items(org, conn, vendor):
    vendor.faults = ["duplicate", "permanent"]
    approve(org, expense("exp_d"), expense("exp_v"))
    records_work_due()
    return {item.reason: item for item in ReviewItem.objects.all()}


def test_a_duplicate_conflict_offers_booking_it_not_retrying(admin_client, items):
    duplicate = items[R.DUPLICATE_CONFLICT]
    page = admin_client.get(url("change", duplicate)).content.decode()
    assert page.count(url("book_existing", duplicate)) >= 2      # the item's button and its fix link
    assert url("retry_one", duplicate) not in page and url("book_manually", duplicate) not in page
    assert admin_client.get(url("retry_one", duplicate)).status_code == 403

    admin_client.post(url("book_existing", duplicate), {"_form_submitted": "True", "external_reference": "MAN-0042", "note": ""})
    duplicate.refresh_from_db()
    assert (duplicate.resolution, duplicate.record.status, duplicate.record.external_id) == (
        ReviewItem.Resolution.BOOKED_MANUALLY, Status.EXPORTED, "MAN-0042")


def test_a_refusal_keeps_retry_and_booked_manually_in_its_menu(admin_client, items):
    refused = items[R.VALIDATION]
    page = admin_client.get(url("change", refused)).content.decode()
    assert url("retry_one", refused) in page and url("book_manually", refused) in page
    assert url("book_existing", refused) not in page
    assert admin_client.get(url("book_existing", refused)).status_code == 403


@pytest.mark.parametrize("reason", list(R))
def test_every_reason_badge_shows_its_words_not_its_key(reason):
    badge = display_for_label((reason, reason.label), "-", REASON_COLOURS)
    assert re.sub(r"<[^>]+>", "", badge).strip() == str(reason.label)


def test_retry_selected_leaves_a_duplicate_conflict_alone(admin_client, items):
    duplicate, refused = items[R.DUPLICATE_CONFLICT], items[R.VALIDATION]
    admin_client.post(reverse("admin:exports_reviewitem_changelist"), {
        "action": "retry_selected", "_selected_action": [duplicate.pk, refused.pk], "confirmed": "1"})
    duplicate.refresh_from_db(), refused.refresh_from_db()
    assert refused.resolution == ReviewItem.Resolution.RETRIED
    assert duplicate.is_open  # booking it under the vendor's reference is its fix
