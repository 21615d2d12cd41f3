"""The close checklist item and the evidence part that reconciliation registers."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest

from exports.close.registry import checklist_items, evidence_parts
from exports.reconcile.run import difference_explain, reconciliation_create, reconciliation_execute

from . import fake_ledger
from .month import a_month

pytestmark = pytest.mark.django_db
NOV = date(2026, 11, 1)


def item():
    return next(i for i in checklist_items() if i.key == "reconciliations")


def part():
    return next(p for p in evidence_parts() if p.key == "reconciliation")


def reconcile(books):
    run = reconciliation_create(connection=books, period=NOV)
    reconciliation_execute(reconciliation_id=run.pk)
    return run


def test_the_checklist_wants_every_connection_reconciled_and_each_difference_explained(org, books):
    a_month(org)
    result = item().compute(org, NOV)
    assert not result.ok and result.count == 1 and "not reconciled" in result.details[0]
    fake_ledger.tamper_manual_post(books, "acc-balance", Decimal("3.00"), date(2026, 11, 3), "SAR")
    run = reconcile(books)
    result = item().compute(org, NOV)
    assert (result.ok, result.count, result.summary) == (False, 1, "1 differences, 0 explained")
    assert result.url.endswith("?period=2026-11-01")
    difference_explain(difference=run.differences.get(), note="accountant's correction", by="fa")
    assert item().compute(org, NOV).ok


def test_the_evidence_pack_gets_the_rows_and_differences_as_csv(org, books):
    assert part().build(books, NOV)[0][0] == "reconciliation/NOT-RECONCILED.txt"
    a_month(org)
    fake_ledger.tamper_manual_post(books, "acc-balance", Decimal("3.00"), date(2026, 11, 3), "SAR")
    reconcile(books)
    files = dict(part().build(books, NOV))
    rows = list(csv.DictReader(io.StringIO(files["reconciliation/rows.csv"].decode())))
    balance = next(r for r in rows if r["account_kind"] == "employees_balance")
    assert (balance["period"], balance["expensico"], balance["vendor"], balance["difference"]) == (
        "2026-11-01", "399.50", "402.50", "3.00")
    diffs = list(csv.DictReader(io.StringIO(files["reconciliation/differences.csv"].decode())))
    assert [(d["kind"], d["actual"]) for d in diffs] == [("extra_in_vendor", "3.00")]
