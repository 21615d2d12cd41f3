"""Workday journals left in draft or awaiting approval are re-checked on a schedule (one batched
lookup per connection) until posted — the warning is closed — or rejected — the record goes
to review, since nothing is booked."""

import pytest
from django_q.models import Schedule

from connectors.models import Connection
from exports.models import ReviewItem
from exports.services.vendor_status import records_vendor_status_recheck
from exports.transitions import Status

from .test_preflight import _work

pytestmark = pytest.mark.django_db


@pytest.fixture
def system():
    return "workday"


def _drafts_on(connection):
    Connection.objects.filter(pk=connection.pk).update(settings={**connection.settings, "submit": False})
    connection.refresh_from_db()


def test_a_draft_is_rechecked_until_posted(connection, kit, sandbox, monkeypatch):
    _drafts_on(connection)
    record = _work(connection, kit.sample_entry(sandbox, connection, "EXPENSICO-st_1-v1"), monkeypatch)
    assert record.status == Status.EXPORTED and record.vendor_status == "Draft"
    assert ReviewItem.objects.get(record=record, resolved_at__isnull=True).reason == "vendor_warning"

    assert records_vendor_status_recheck()["unchanged"] == 1          # still a draft: asked again later
    sandbox.app.journals[record.external_id]["status"] = "Posted"      # approved in Workday
    assert records_vendor_status_recheck()["posted"] == 1
    record.refresh_from_db()
    assert record.status == Status.EXPORTED and record.vendor_status == ""
    assert not ReviewItem.objects.filter(record=record, resolved_at__isnull=True).exists()
    assert records_vendor_status_recheck() == {"posted": 0, "rejected": 0, "unchanged": 0, "failed": 0}


def test_a_rejected_draft_opens_a_review_item(connection, kit, sandbox, monkeypatch):
    _drafts_on(connection)
    record = _work(connection, kit.sample_entry(sandbox, connection, "EXPENSICO-st_2-v1"), monkeypatch)
    sandbox.app.journals[record.external_id]["status"] = "Canceled"    # rejected: Workday lists it no more
    assert records_vendor_status_recheck()["rejected"] == 1
    record.refresh_from_db()
    assert record.status == Status.NEEDS_REVIEW
    item = ReviewItem.objects.get(record=record, resolved_at__isnull=True)
    assert item.reason == "validation" and "rejected" in item.detail and item.context["vendor_status"] in ("Canceled", "gone")


def test_the_recheck_is_scheduled():
    assert Schedule.objects.filter(func="exports.tasks.vendor_status_recheck").exists()
