"""A record not sent yet shows, on its page, the payload and entry it would be sent as now (built from
the current mappings, sending nothing); one that cannot be built says why."""

import pytest
from django.urls import reverse

from exports.models import ExportRecord

from .conftest import approve, expense

pytestmark = pytest.mark.django_db


def _page(admin_client, record):
    return admin_client.get(reverse("admin:exports_exportrecord_change", args=[record.pk])).content.decode()


def test_a_pending_record_shows_what_it_would_be_sent_as(admin_client, org, conn, vendor):
    approve(org, expense("exp_p", amount="412.30"))
    record = ExportRecord.objects.get(source_id="exp_p")
    assert record.status == "pending" and record.payload_preview is None
    page = _page(admin_client, record)
    assert "this is what it would be sent as now" in page
    assert "412.3" in page and "acc-travel" in page  # the amount and the mapped account, in the JSON
    record.refresh_from_db()
    assert record.status == "pending" and record.payload_preview is None and not vendor.documents  # sent nothing


def test_a_record_that_cannot_be_built_says_why(admin_client, org, conn, vendor):
    approve(org, expense("exp_gap", category="HOTEL"))
    page = _page(admin_client, ExportRecord.objects.get(source_id="exp_gap"))
    assert "it cannot be built now" in page and "HOTEL" in page
