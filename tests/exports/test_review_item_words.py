"""The review item page shows what happened whole; only the queue cuts it (to three lines, the whole
text in its tooltip)."""

import pytest
from django.urls import reverse

from exports.models import ReviewItem
from exports.services.worker import records_work_due

from .conftest import approve, expense

pytestmark = pytest.mark.django_db

LONG = "Account 4000 is archived; " + "the dimension value DEPT-17 is blocked for posting in this period; " * 3 + "END"


def test_the_item_page_shows_a_long_refusal_whole(admin_client, org, conn, vendor):
    vendor.faults = ["permanent"]
    approve(org, expense("exp_long"))
    records_work_due()
    item = ReviewItem.objects.get(record__source_id="exp_long")
    ReviewItem.objects.filter(pk=item.pk).update(detail=LONG, detail_message={})
    page = admin_client.get(reverse("admin:exports_reviewitem_change", args=[item.pk])).content.decode()
    assert len(LONG) > 140 and LONG in page and "What happened" in page
    queue = admin_client.get(reverse("admin:exports_reviewitem_changelist")).content.decode()
    assert 'class="review-said' in queue and LONG in queue  # clamped by CSS, whole in the tooltip
