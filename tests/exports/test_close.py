"""The close checklist, sign-off (locks the month) and reopen (owner, with a reason)."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from exports.close.services import (
    CloseError,
    checklist_compute,
    month_close_reopen,
    month_close_sign_off,
    period_parse,
)
from exports.models import ExportRecord, MonthClose, ReviewItem
from exports.services.worker import records_work_due

from .conftest import approve, expense

pytestmark = pytest.mark.django_db
NOV = date(2026, 11, 1)


def items(org, period=NOV):
    return {row["key"]: row for row in checklist_compute(organization=org, period=period)}


def test_period_is_parsed_or_refused_naming_the_field():
    assert period_parse("2026-11") == NOV
    with pytest.raises(CloseError) as err:
        period_parse("2026-13")
    assert err.value.field == "period"


def test_a_month_with_everything_booked_is_all_ok_and_signs_off(org, conn, vendor, admin_user):
    approve(org, expense("exp_1"))
    records_work_due(limit=10)
    assert all(row["ok"] for row in items(org).values())
    close = month_close_sign_off(organization=org, period=NOV, by=admin_user, comment="November done")
    assert close.status == MonthClose.Status.SIGNED_OFF and close.signed_off_by == admin_user
    assert [row["key"] for row in close.checklist][:5] == ["expenses_settled", "review_sla", "receipts",
                                                           "mappings", "statement"]


def test_unexported_expense_blocks_the_sign_off(org, conn, vendor, admin_user):
    approve(org, expense("exp_1"))
    row = items(org)["expenses_settled"]
    assert not row["ok"] and row["details"] == ["exp_1"] and "document_date_from=2026-11-01" in row["url"]
    with pytest.raises(CloseError) as err:
        month_close_sign_off(organization=org, period=NOV, by=admin_user)
    assert err.value.code == "checklist_incomplete"


def test_held_with_an_open_reason_counts_as_settled_but_past_sla_does_not(org, conn, vendor):
    approve(org, expense("exp_1", category="UNMAPPED"))
    records_work_due(limit=10)
    checks = items(org)
    assert checks["expenses_settled"]["ok"]
    assert not checks["mappings"]["ok"] and checks["mappings"]["count"] == 1
    assert checks["review_sla"]["ok"]
    ReviewItem.objects.update(sla_due_at=timezone.now() - timedelta(hours=1))
    assert not items(org)["review_sla"]["ok"]


def test_missing_receipt_needs_an_explanation(org, conn, vendor, admin_user):
    approve(org, expense("exp_1", receipts=[]))
    records_work_due(limit=10)
    assert items(org)["receipts"]["details"] == ["exp_1"]
    record = ExportRecord.objects.get()
    ReviewItem.objects.create(organization=org, record=record, reason="missing_receipt", sla_due_at=timezone.now(),
                              resolved_at=timezone.now(), resolution="acknowledged",
                              resolution_note="lost; manager confirmed")
    assert items(org)["receipts"]["ok"]


def test_reopen_needs_a_reason_and_keeps_history(org, conn, vendor, admin_user):
    close = month_close_sign_off(organization=org, period=NOV, by=admin_user)
    with pytest.raises(CloseError) as err:
        month_close_reopen(close=close, by=admin_user, reason=" ")
    assert err.value.field == "reason"
    close = month_close_reopen(close=close, by=admin_user, reason="late invoice")
    assert close.status == MonthClose.Status.OPEN and close.reopen_reason == "late invoice"
    statuses = list(close.history.order_by("history_id").values_list("status", "history_change_reason"))
    assert statuses[-2:] == [("signed_off", "signed off"), ("open", "reopened: late invoice")]


def test_a_signed_off_month_cannot_be_signed_twice(org, admin_user):
    month_close_sign_off(organization=org, period=NOV, by=admin_user)
    with pytest.raises(CloseError) as err:
        month_close_sign_off(organization=org, period=NOV, by=admin_user)
    assert err.value.code == "not_open"
