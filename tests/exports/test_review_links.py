"""The review item says where its fix is made, for the kinds whose fix is not on the item itself
(a closed period, a pre-flight refusal, a possible duplicate, an anomaly), and reads in words."""

from datetime import date

import pytest
from django.utils import timezone

from exports.models import MonthClose, ReviewItem
from exports.review_columns import REASON_COLOURS
from exports.review_links import where_to_fix
from exports.review_words import error_in_words, fix_for
from exports.services.worker import records_work_due

from .conftest import approve, expense

pytestmark = pytest.mark.django_db
R = ReviewItem.Reason


def test_every_reason_has_a_badge_colour_so_the_queue_shows_its_words_not_its_key():
    assert set(REASON_COLOURS) == set(R.values)


def test_an_index_in_a_field_name_is_not_taken_for_json():
    text = "Pre-flight: lines[0].account: account 6100 Travel is inactive"
    assert error_in_words(text) == text
    assert error_in_words('lines[0] refused: {"error": {"message": "Account 4000 is archived"}}') == \
        "lines[0] refused: Account 4000 is archived"


def test_our_signed_off_month_links_to_the_month_and_does_not_blame_the_vendor(org, conn, vendor):
    MonthClose.objects.create(organization=org, period=date(2026, 11, 1), status=MonthClose.Status.SIGNED_OFF,
                              signed_off_at=timezone.now())
    approve(org, expense("exp_1"))
    records_work_due(limit=10)
    item = ReviewItem.objects.get(reason=R.PERIOD_CLOSED)
    text, action = fix_for(item)
    assert action == "retry" and "signed this month off" in text and "vendor" not in text
    assert where_to_fix(item) == [(f"/admin/exports/monthclose/month/{org.pk}/2026-11/",
                                   "Reopen 2026-11 (month close)")]


def test_the_vendors_lock_links_to_the_connections_closed_period_policy(org, conn, vendor):
    vendor.locked_through = date(2026, 11, 30)
    approve(org, expense("exp_1"))
    records_work_due(limit=10)
    item = ReviewItem.objects.get(reason=R.PERIOD_CLOSED)
    [(url, label)] = where_to_fix(item)
    assert url == f"/admin/exports/connectionclosepolicy/add/?connection={conn.pk}" and "policy" in label


def test_a_held_duplicate_links_to_the_earlier_expense_and_to_skip(org, conn, vendor):
    approve(org, expense("exp_1", merchant="Careem"), expense("exp_2", merchant="Careem"))
    records_work_due(limit=10)
    item = ReviewItem.objects.get(reason=R.POSSIBLE_DUPLICATE)
    assert where_to_fix(item) == [("/admin/source/expense/?q=exp_1", "Compare with exp_1"),
                                  (f"/admin/exports/reviewitem/{item.pk}/skip_one/", "Skip: it is a duplicate")]


def test_an_anomaly_is_decided_on_its_flag_not_acknowledged(org, conn, vendor):
    from exports.anomalies.models import AnomalyFlag
    from exports.anomalies.services import anomaly_scan, anomaly_setting_save

    anomaly_setting_save(organization=org, detector="weekend_spend", enabled=True)
    approve(org, expense("exp_fri", date="2026-11-06"))
    records_work_due(limit=10)
    anomaly_scan(organization=org, since=date(2026, 11, 1), until=date(2026, 11, 30))
    item = ReviewItem.objects.get(reason=R.ANOMALY)
    assert fix_for(item)[1] == "anomaly"
    assert where_to_fix(item) == [(f"/admin/exports/anomalyflag/{AnomalyFlag.objects.get().pk}/change/",
                                   "Dismiss or confirm the anomaly flag")]
    item.resolved_at = timezone.now()
    assert where_to_fix(item) == []


def test_the_item_page_has_no_acknowledge_button_for_an_anomaly(org, conn, vendor, admin_client):
    from exports.anomalies.services import anomaly_scan, anomaly_setting_save

    anomaly_setting_save(organization=org, detector="weekend_spend", enabled=True)
    approve(org, expense("exp_fri", date="2026-11-06"))
    records_work_due(limit=10)
    anomaly_scan(organization=org, since=date(2026, 11, 1), until=date(2026, 11, 30))
    item = ReviewItem.objects.get(reason=R.ANOMALY)
    page = admin_client.get(f"/admin/exports/reviewitem/{item.pk}/change/").content.decode()
    assert "Dismiss or confirm the anomaly flag" in page
    assert f"/{item.pk}/acknowledge_one/" not in page
