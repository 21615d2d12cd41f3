"""The seed's entry points: export_expense, batch_export, get_export_status,
map_to_accounting_schema (sends nothing), retry_failed_exports."""

import pytest

from exports.models import ExportRecord, ReviewItem
from exports.services.actions import (
    ExportError,
    batch_export,
    export_expense,
    get_export_status,
    map_to_accounting_schema,
    retry_failed_exports,
)
from exports.services.worker import records_work_due

from .conftest import approve, expense

pytestmark = pytest.mark.django_db


def test_map_to_accounting_schema_previews_without_sending(org, conn, vendor):
    approve(org, expense("exp_1", amount="115.00"))
    preview = map_to_accounting_schema(expense="exp_1", target=conn.pk)
    assert preview["ok"] and preview["payload"] == {"reference": "EXPENSICO-exp_1-v1", "amount": "115.00"}
    assert sum(float(line["debit"]) for line in preview["entry"]["lines"]) == 115.0
    assert vendor.pushes == 0 and vendor.finds == 0
    approve(org, expense("exp_2", category="HOTEL"))
    gap = map_to_accounting_schema(expense="exp_2", target=conn)
    assert not gap["ok"] and gap["reason"] == "mapping_gap" and gap["context"]["items"][0]["key"] == "HOTEL"


def test_export_expense_and_status(org, conn, vendor):
    approve(org, expense("exp_1"))
    record = export_expense(expense_id="exp_1", target=conn.pk)
    assert export_expense(expense_id="exp_1", target=conn).pk == record.pk
    records_work_due()
    [status] = get_export_status(expense_id="exp_1", organization_id=org.pk)
    assert status["status"] == "exported" and status["external_id"] and status["attempts"] == 1
    with pytest.raises(ExportError):
        export_expense(expense_id="exp_1", target=999999)


def test_batch_export_reports_each_item(org, conn):
    approve(org, expense("exp_1"))
    results = batch_export(expense_ids=["exp_1", "nope"], target=conn.pk)
    assert [r["ok"] for r in results] == [True, False]


def test_retry_failed_exports_requeues_failures_but_not_holds(org, conn, vendor):
    from mappings.models import HoldRule

    HoldRule.objects.create(connection=conn, name="Big", amount_over="1000")
    approve(org, expense("exp_1"), expense("exp_2"), expense("exp_3", amount="5000.00"))
    vendor.faults = ["permanent", "transient"]
    records_work_due()
    statuses = dict(ExportRecord.objects.values_list("source_id", "status"))
    assert statuses["exp_3"] == "needs_review"  # held: amount over 1000
    assert sorted([statuses["exp_1"], statuses["exp_2"]]) == ["needs_review", "retry"]
    assert retry_failed_exports(organization_id=org.pk) == 2
    records_work_due()
    statuses = dict(ExportRecord.objects.values_list("source_id", "status"))
    assert statuses == {"exp_1": "exported", "exp_2": "exported", "exp_3": "needs_review"}
    assert ReviewItem.objects.get(resolved_at__isnull=True).reason == "hold_rule"
