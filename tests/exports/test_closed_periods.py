"""Closed periods: the vendor's (PeriodClosed) and our own close follow the connection's policy."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from exports.models import ConnectionClosePolicy, ExportRecord, MonthClose, ReviewItem
from exports.services.worker import records_work_due
from exports.transitions import Status

from .conftest import approve, cancel, expense

pytestmark = pytest.mark.django_db


def work():
    return records_work_due(limit=100)


def policy(conn, value):
    ConnectionClosePolicy.objects.update_or_create(connection=conn, defaults={"closed_period": value})


def sign_off(org, period):
    return MonthClose.objects.create(organization=org, period=period, status=MonthClose.Status.SIGNED_OFF,
                                     signed_off_at=timezone.now())


def test_vendor_closed_period_is_held_for_review_by_default(org, conn, vendor):
    vendor.locked_through = date(2026, 11, 30)
    approve(org, expense("exp_1"))
    assert work() == {"needs_review": 1}
    item = ReviewItem.objects.get()
    assert item.reason == ReviewItem.Reason.PERIOD_CLOSED
    assert item.context["closed_by"] == "vendor" and item.context["period_end"] == "2026-11-30"
    assert not vendor.documents


def test_vendor_closed_period_posts_on_the_next_open_day_with_a_new_key_and_the_original_date(org, conn, vendor):
    policy(conn, "next_open")
    vendor.locked_through = date(2026, 11, 30)
    approve(org, expense("exp_1"))
    record = ExportRecord.objects.get()
    first_key = str(record.idempotency_key)
    assert work() == {"retry": 1}
    record.refresh_from_db()
    assert record.posting_date == date(2026, 12, 1) and str(record.idempotency_key) != first_key
    assert vendor.keys_refused == [first_key]
    assert work() == {"exported": 1}
    entry = vendor.documents["EXPENSICO-exp_1-v1"]["entry"]
    assert entry.date == date(2026, 12, 1)
    assert "original date 2026-11-02" in entry.description
    assert list(record.export_attempts.values_list("outcome", flat=True)) == ["redated", "exported"]
    assert len(vendor.documents) == 1 and not ReviewItem.objects.exists()


def test_a_vendor_that_does_not_say_where_the_period_ends_is_walked_a_month_forward(org, conn, vendor):
    policy(conn, "next_open")
    vendor.locked_through, vendor.says_period_end = date(2026, 12, 31), False
    approve(org, expense("exp_1"))
    assert work() == {"retry": 1}
    assert ExportRecord.objects.get().posting_date == date(2026, 12, 1)
    assert work() == {"retry": 1}
    assert work() == {"exported": 1}
    assert vendor.documents["EXPENSICO-exp_1-v1"]["entry"].date == date(2027, 1, 1)


def test_next_open_day_skips_months_we_signed_off(org, conn, vendor):
    policy(conn, "next_open")
    sign_off(org, date(2026, 12, 1))
    vendor.locked_through = date(2026, 11, 30)
    approve(org, expense("exp_1"))
    work()
    assert ExportRecord.objects.get().posting_date == date(2027, 1, 1)


def test_a_late_change_to_a_month_we_signed_off_is_held(org, conn, vendor):
    sign_off(org, date(2026, 11, 1))
    approve(org, expense("exp_1"))
    assert work() == {"needs_review": 1}
    item = ReviewItem.objects.get()
    assert item.reason == ReviewItem.Reason.PERIOD_CLOSED and item.context["closed_by"] == "close"
    assert vendor.pushes == 0


def test_a_late_change_to_a_month_we_signed_off_posts_in_the_next_open_month(org, conn, vendor):
    policy(conn, "next_open")
    sign_off(org, date(2026, 11, 1))
    approve(org, expense("exp_1"))
    assert work() == {"exported": 1}
    entry = vendor.documents["EXPENSICO-exp_1-v1"]["entry"]
    assert entry.date == date(2026, 12, 1) and "original date 2026-11-02" in entry.description
    assert ExportRecord.objects.get().posting_date == date(2026, 12, 1)


def test_reversal_of_a_document_in_a_closed_period_posts_in_the_open_period(org, conn, vendor):
    approve(org, expense("exp_1"))
    assert work() == {"exported": 1}
    vendor.locked_through = date(2026, 11, 30)   # the vendor closes November after we booked
    sign_off(org, date(2026, 11, 1))             # and so do we
    cancel(org, "exp_1")
    ExportRecord.objects.filter(status=Status.PENDING).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert work() == {"exported": 1}
    reversal = vendor.documents["EXPENSICO-exp_1-v1-R"]["entry"]
    assert reversal.date == timezone.localdate() and reversal.date > date(2026, 11, 30)
    assert not ReviewItem.objects.exists()


def test_a_reversal_refused_by_a_closed_period_follows_the_policy(org, conn, vendor):
    policy(conn, "next_open")
    approve(org, expense("exp_1"))
    assert work() == {"exported": 1}
    today = timezone.localdate()
    vendor.locked_through = today
    cancel(org, "exp_1")
    ExportRecord.objects.filter(status=Status.PENDING).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert work() == {"retry": 1}
    assert work() == {"exported": 1}
    assert vendor.documents["EXPENSICO-exp_1-v1-R"]["entry"].date == today + timedelta(days=1)
