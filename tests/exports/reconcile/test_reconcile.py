"""Reconciliation against a fake ledger that reads back: rows, differences, drill-downs, storage."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine

from exports.models import ExportRecord, ReviewItem
from exports.reconcile.documents import content_hash
from exports.reconcile.models import Reconciliation, ReconciliationDifference
from exports.reconcile.run import (
    ReconcileError,
    difference_explain,
    reconciliation_create,
    reconciliation_execute,
)

from . import fake_ledger
from .conftest import ledger_connection
from .month import a_month, export_all, statement

pytestmark = pytest.mark.django_db
NOV = date(2026, 11, 1)


def reconcile(connection, period=NOV, **kwargs):
    run = reconciliation_create(connection=connection, period=period, **kwargs)
    assert reconciliation_execute(reconciliation_id=run.pk) == "finished"
    run.refresh_from_db()
    return run


def rows_of(run):
    return {(r.account_kind, r.account, r.currency): (r.expensico, r.booked, r.vendor, r.difference)
            for r in run.rows.all()}


def test_an_exported_month_reconciles_to_zero_on_every_row(org, books):
    a_month(org)
    run = reconcile(books)
    assert run.status == Reconciliation.Status.FINISHED
    rows = rows_of(run)
    # Employees Balance: 500 funded − 50 unloaded − 60.50 card spend + 10 refund = 399.50 (a debit).
    assert rows[("employees_balance", "acc-balance", "SAR")] == (Decimal("399.50"),) * 3 + (Decimal("0"),)
    # Employee Claims: 155 reimbursed − 155 claimed = 0.
    assert rows[("employee_claims", "acc-claims", "SAR")][:3] == (Decimal("0"),) * 3
    # Funding bank: −500 funded + 50 unloaded − 155 reimbursed.
    assert rows[("funding_bank", "bank-1", "SAR")][:3] == (Decimal("-605.00"),) * 3
    assert rows[("expense", "acc-travel", "SAR")] == (Decimal("165.50"),) * 3 + (Decimal("0"),)
    assert rows[("expense", "acc-meals", "SAR")][:3] == (Decimal("40.00"),) * 3
    assert not run.differences.exists()
    assert run.requests_used == 3   # 7 documents in pages of 3
    assert run.inputs["counts"]["vendor_documents"] == 7
    # Found as booked: the run verified every record on the way, with the hash of the vendor's copy.
    booked = ExportRecord.objects.exclude(kind="statement_transaction")
    assert not booked.filter(verified_at__isnull=True).exists()
    pages = fake_ledger.ReadBackFake(books).read_back(date_from=NOV, date_to=date(2026, 11, 30))
    docs = {doc.reference: doc for page in pages for doc in page.documents}
    assert {r.reference: r.vendor_hash for r in booked} == {ref: content_hash(d) for ref, d in docs.items()}


def test_tampering_shows_exactly_the_four_changes_and_opens_vendor_mismatch_items(org, books):
    a_month(org)
    by_ref = {r.reference: r for r in ExportRecord.objects.all()}
    deleted, edited, duplicated = (by_ref[f"EXPENSICO-{s}-v1"] for s in ("exp_1", "exp_2", "exp_3"))
    fake_ledger.tamper_delete(books, deleted.external_id)
    fake_ledger.tamper_edit_amount(books, edited.external_id, Decimal("45.00"))
    copy = fake_ledger.tamper_duplicate(books, duplicated.external_id)
    manual = fake_ledger.tamper_manual_post(books, "acc-balance", Decimal("25.00"), date(2026, 11, 9), "SAR")
    run = reconcile(books)
    found = {(d.kind, d.reference, d.external_id) for d in run.differences.all()}
    assert found == {("missing_in_vendor", deleted.reference, deleted.external_id),
                     ("amount_differs", edited.reference, edited.external_id),
                     ("extra_in_vendor", duplicated.reference, copy),
                     ("extra_in_vendor", "", manual)}
    amount = run.differences.get(kind="amount_differs")
    assert (amount.expected, amount.actual) == (Decimal("40.000"), Decimal("45.000"))
    assert "acc-meals: 40.00 → 45.00" in amount.detail
    items = ReviewItem.objects.filter(reason="vendor_mismatch")
    assert {(i.record_id, i.context["change"]) for i in items} == {
        (deleted.pk, "deleted"), (edited.pk, "changed"), (duplicated.pk, "duplicated")}
    rows = rows_of(run)
    assert rows[("employees_balance", "acc-balance", "SAR")][3] == Decimal("25.00") - Decimal("60.50")
    assert rows[("employee_claims", "acc-claims", "SAR")][3] == Decimal("115.00") - Decimal("5.00")
    assert rows[("funding_bank", "bank-1", "SAR")][3] == 0
    # A second run finds the same, and opens no second item.
    reconcile(books)
    assert ReviewItem.objects.filter(reason="vendor_mismatch").count() == 3


def test_not_exported_and_held_in_review_drill_down_to_the_source(org, books):
    from ..conftest import approve, expense

    a_month(org)
    approve(org, expense("exp_9", amount="70.00", category="UNMAPPED"), rid="rpt_2")
    export_all()   # a mapping gap: held in review
    approve(org, expense("exp_8", amount="12.00"), rid="rpt_3")   # not worked yet: not exported
    run = reconcile(books)
    found = {(d.kind, d.source_id, d.expected) for d in run.differences.all()}
    assert found == {("held_in_review", "exp_9", Decimal("70.000")), ("not_exported", "exp_8", Decimal("12.000"))}
    held = run.differences.get(kind="held_in_review")
    assert held.record.reference == "EXPENSICO-exp_9-v1"
    rows = rows_of(run)
    assert rows[("expense", "unmapped:UNMAPPED", "SAR")] == (Decimal("70.00"), 0, 0, Decimal("-70.00"))
    assert rows[("employee_claims", "acc-claims", "SAR")][3] == Decimal("82.00")


def test_unmatched_statement_lines_are_listed(org, books):
    a_month(org)
    statement(org, [("ln_1", "2026-11-01", "-500.00", "TRX-fnd_1"), ("ln_2", "2026-11-02", "-9.99", "FEE")])
    export_all()
    run = reconcile(books)
    assert [(d.kind, d.source_id) for d in run.differences.all()] == [("unmatched_statement_line", "ln_2")]


def test_a_stored_run_does_not_change_when_data_does(org, books):
    a_month(org)
    first = reconcile(books)
    before = rows_of(first)
    fake_ledger.tamper_manual_post(books, "acc-balance", Decimal("1.00"), date(2026, 11, 3), "SAR")
    second = reconcile(books)
    assert rows_of(Reconciliation.objects.get(pk=first.pk)) == before
    assert rows_of(second) != before


def test_three_decimal_currency_is_exact(org, books):
    from .month import fund

    fund(org, "fnd_k", "10.125", currency="KWD")
    export_all()
    run = reconcile(books)
    row = run.rows.get(account_kind="employees_balance", currency="KWD")
    assert (row.expensico, row.vendor, row.difference) == (Decimal("10.125"), Decimal("10.125"), 0)


def test_bad_period_and_unconfirmed_cost_name_the_field(org, books):
    with pytest.raises(ReconcileError) as exc:
        reconciliation_create(connection=books, period=date(2026, 11, 5))
    assert exc.value.field == "period"
    budgeted = ledger_connection(org, system="fake_budget", name="Budgeted books")
    with pytest.raises(ReconcileError) as exc:
        reconciliation_create(connection=budgeted, period=NOV)
    assert exc.value.field == "confirm_cost"
    run = reconcile(budgeted, confirm_cost=True)
    assert run.requests_estimate == 1


def test_a_difference_is_explained_with_a_note_who_and_when(org, books, django_user_model):
    a_month(org)
    fake_ledger.tamper_manual_post(books, "acc-balance", Decimal("3.00"), date(2026, 11, 3), "SAR")
    diff = reconcile(books).differences.get()
    with pytest.raises(ReconcileError) as exc:
        difference_explain(difference=diff, note="  ", by=None)
    assert exc.value.field == "note"
    user = django_user_model.objects.create_user("fa", is_staff=True)
    difference_explain(difference=diff, note="bank fee booked by the accountant", by=user)
    diff = ReconciliationDifference.objects.get(pk=diff.pk)
    assert diff.explained and diff.explained_by_label == "fa" and diff.explained_by == user


def test_the_dashboard_panel_shows_progress_per_connection(org, books):
    from exports.reconcile.dashboard import reconciliation_panel

    a_month(org)
    with time_machine.travel(datetime(2026, 12, 6, 10, tzinfo=UTC), tick=False):
        assert reconciliation_panel(None, [org.pk])["tables"][0]["table"]["rows"] == [
            ["Ledger books", "not reconciled", "not reconciled", "0 of 7 (0%)"]]
        fake_ledger.tamper_manual_post(books, "acc-balance", Decimal("3.00"), date(2026, 11, 3), "SAR")
        reconcile(books)
        panel = reconciliation_panel(None, [org.pk])
    assert panel["tables"][0]["table"]["headers"] == ["Connection", "Nov 2026", "Dec 2026", "Verified"]
    assert panel["tables"][0]["table"]["rows"] == [
        ["Ledger books", "1 difference, 0 explained", "not reconciled", "7 of 7 (100%)"]]


def test_the_differences_read_in_arabic(admin_client, org, books):
    """Each difference's detail (and the vendor-mismatch items it opens) in the reader's language; the
    amounts, references and accounts as they are."""
    from tests.exports.test_messages_arabic import _text

    test_tampering_shows_exactly_the_four_changes_and_opens_vendor_mismatch_items(org, books)
    run = Reconciliation.objects.order_by("-id").first()
    admin_client.post("/i18n/setlang/", {"language": "ar", "next": "/admin/"})
    pages = [f"/admin/exports/reconciliation/{run.pk}/change/", "/admin/exports/reconciliationdifference/",
             *(f"/admin/exports/reconciliationdifference/{d.pk}/change/" for d in run.differences.all()),
             *(f"/admin/exports/reviewitem/{i.pk}/change/" for i in ReviewItem.objects.filter(reason="vendor_mismatch"))]
    english = ["deleted in the vendor", "a second document carries", "booked by hand", "account acc-meals",
               "in the vendor after booking", "no longer in the vendor", "documents carry"]
    found = {}
    for url in pages:
        response = admin_client.get(url)
        assert response.status_code == 200, url
        text = _text(response.content.decode())
        if [e for e in english if e in text]:
            found[url] = [e for e in english if e in text]
    assert found == {}
    text = _text(admin_client.get(f"/admin/exports/reconciliation/{run.pk}/change/").content.decode())
    assert "الحساب acc-meals: من 40.00 إلى 45.00" in text and "قُيّد يدويًا في النظام المحاسبي" in text
