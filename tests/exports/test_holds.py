"""Holds a reviewer can release: role check, two-person approval, audit, exported exactly once."""

from decimal import Decimal

import pytest

from expensico_sync.core.roles import Role
from exports.models import HoldPolicy, HoldRelease, ReviewItem
from exports.services.actions import record_retry_now
from exports.services.holds import hold_release
from exports.services.review import ReviewError
from exports.services.worker import records_work_due
from exports.transitions import Status
from mappings.models import CodingRule, HoldRule
from tests.core.factories import make_member

from .conftest import approve, expense

pytestmark = pytest.mark.django_db


def work():
    return records_work_due(limit=100)


@pytest.fixture
def held(org, conn, vendor):
    HoldRule.objects.create(connection=conn, name="Big spend", amount_over=Decimal("1000"))
    approve(org, expense("exp_1", amount="5000.00"))
    assert work() == {"needs_review": 1}
    return ReviewItem.objects.get()


def test_retry_re_holds_but_a_release_exports_exactly_once(org, held, vendor, django_capture_on_commit_callbacks):
    record_retry_now(record=held.record)
    assert work() == {"needs_review": 1}                 # retry alone: held again
    item = ReviewItem.objects.get(resolved_at__isnull=True)
    approver = make_member(org, Role.FINANCE_ADMIN, "fatima")
    with django_capture_on_commit_callbacks(execute=True):
        approval = hold_release(item=item, by=approver, note="budget ok")
    record = item.record
    record.refresh_from_db()
    assert record.status == Status.EXPORTED and vendor.pushes == 1
    assert approval.released and approval.step == 1 and approval.approver_label == "fatima"
    item.refresh_from_db()
    assert item.resolution == ReviewItem.Resolution.RELEASED and item.resolved_by == approver
    assert work() == {}  and vendor.pushes == 1           # nothing left to send


def test_a_released_record_that_fails_later_is_never_re_held(org, held, vendor, django_capture_on_commit_callbacks):
    vendor.faults = ["permanent"]
    hold_release(item=held, by=make_member(org, Role.OWNER, "omar"))
    assert work() == {"needs_review": 1}
    item = ReviewItem.objects.get(resolved_at__isnull=True)
    assert item.reason == ReviewItem.Reason.VALIDATION
    record_retry_now(record=item.record)
    assert work() == {"exported": 1}
    assert list(vendor.documents) == ["EXPENSICO-exp_1-v1"]  # the refused push booked nothing


def test_a_reviewer_may_not_release(org, held):
    with pytest.raises(ReviewError) as exc:
        hold_release(item=held, by=make_member(org, Role.REVIEWER, "rami"))
    assert exc.value.code == "forbidden" and not HoldRelease.objects.exists()


def test_above_the_amount_two_different_people_must_approve(org, held, vendor, django_capture_on_commit_callbacks):
    HoldPolicy.objects.create(organization=org, two_person_above=Decimal("2000"))
    first = make_member(org, Role.FINANCE_ADMIN, "fatima")
    step1 = hold_release(item=held, by=first)
    assert not step1.released and step1.amount == Decimal("5000.000")
    held.refresh_from_db()
    assert held.is_open and held.context["approvals"] == 1 and held.record.status == Status.NEEDS_REVIEW
    with pytest.raises(ReviewError) as exc:
        hold_release(item=held, by=first)
    assert exc.value.code == "same_approver"
    with django_capture_on_commit_callbacks(execute=True):
        step2 = hold_release(item=held, by=make_member(org, Role.OWNER, "omar"))
    assert step2.released and step2.step == 2
    assert [a.approver_label for a in HoldRelease.objects.order_by("step")] == ["fatima", "omar"]
    assert vendor.pushes == 1


def test_below_the_amount_one_approver_suffices(org, held, django_capture_on_commit_callbacks):
    HoldPolicy.objects.create(organization=org, two_person_above=Decimal("9000"))
    assert hold_release(item=held, by=make_member(org, Role.FINANCE_ADMIN, "fatima")).released


def test_a_coding_rule_hold_is_released_the_same_way(org, conn, vendor, django_capture_on_commit_callbacks):
    CodingRule.objects.create(connection=conn, name="Careem check", merchant="careem", hold=True,
                              hold_reason="confirm the trip")
    approve(org, expense("exp_1", merchant="Careem"))
    assert work() == {"needs_review": 1}
    item = ReviewItem.objects.get()
    assert item.reason == ReviewItem.Reason.HOLD_RULE and "confirm the trip" in item.detail
    with django_capture_on_commit_callbacks(execute=True):
        hold_release(item=item, by=make_member(org, Role.OWNER, "omar"))
    assert vendor.pushes == 1


def test_only_holds_can_be_released(org, conn, vendor):
    approve(org, expense("exp_1", category="HOTEL"))
    work()
    with pytest.raises(ReviewError) as exc:
        hold_release(item=ReviewItem.objects.get(), by=make_member(org, Role.OWNER, "omar"))
    assert exc.value.code == "not_a_hold"
