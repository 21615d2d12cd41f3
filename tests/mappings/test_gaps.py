"""Gap detection over real mirror rows, the snapshot selector, and the mappings_changed announcement."""

from decimal import Decimal

import pytest
from django.db import transaction

from connectors.entry import AccountingEntry
from mappings.documents import document_from_expense
from mappings.models import CategoryMapping, DimensionMapping, TaxMapping
from mappings.resolve import resolve
from mappings.selectors import gaps_from_documents, mapping_gaps, mapping_snapshot
from mappings.settings import ConnectionSettings
from mappings.signals import mappings_changed
from tests.mappings.factories import make_category_mapping
from tests.source.factories import expense_payload, make_report, report_payload


def expense(n, **over):
    return expense_payload(n, **over)


@pytest.fixture
def expenses(org):
    """Five approved expenses: OFF ×3 (one in KWD), TRAVEL ×1 with an unmapped cost centre, ENT ×1 refund."""
    make_report(org, report_payload(1, expenses=[
        expense(101), expense(102, amount="200.00"),
        expense(103, amount="1.250", currency="KWD", tax=None, dimensions={}),
        expense(104, category={"id": "cat_tr", "code": "TRAVEL", "name": "Travel"}, dimensions={"cost_center": "CC-9"}),
        expense(105, category={"id": "cat_ent", "code": "ENT", "name": "Entertainment"}, amount="-50.00",
                tax=None, dimensions={}),
    ]))


def gap_table(connection):
    return {(g["kind"], g["key"]): (g["expenses"], g["amounts"]) for g in mapping_gaps(connection)}


def test_gaps_count_expenses_and_amounts_per_currency(connection, expenses):
    DimensionMapping.objects.create(connection=connection, dimension_key="cost_center", value="CC-100",
                                    remote_id="cc-100")
    assert gap_table(connection) == {
        ("category", "OFF"): (3, {"KWD": Decimal("1.250"), "SAR": Decimal("315.000")}),
        ("category", "TRAVEL"): (1, {"SAR": Decimal("115.000")}),
        ("category", "ENT"): (1, {"SAR": Decimal("50.000")}),
        ("tax", "VAT15"): (3, {"SAR": Decimal("430.000")}),
        ("dimension", "cost_center=CC-9"): (1, {"SAR": Decimal("115.000")}),
    }


def test_fixing_gaps_removes_them_and_resolves(connection, expenses):
    for code in ("OFF", "TRAVEL", "ENT"):
        make_category_mapping(connection, code)
    TaxMapping.objects.create(connection=connection, tax_code="VAT15", tax_rate="tr-15")
    assert gap_table(connection) == {}
    snapshot = mapping_snapshot(connection)
    settings = ConnectionSettings.from_connection(connection)
    from expensico_sync.source.models import Expense
    entries = [resolve(document_from_expense(e), snapshot, settings) for e in Expense.objects.all()]
    assert all(isinstance(e, AccountingEntry) for e in entries)
    assert {e.mapping_version for e in entries} == {snapshot.version}
    refund = next(e for e in entries if e.source_id == "exp_105")
    assert refund.lines[0].credit == Decimal("50.00") and refund.lines[1].debit == Decimal("50.00")


def test_gaps_from_documents_is_pure_and_counts_each_expense_once(connection, expenses):
    from expensico_sync.source.models import Expense
    docs = [document_from_expense(e) for e in Expense.objects.all()] * 2
    rows = gaps_from_documents(docs, mapping_snapshot(connection), ConnectionSettings())
    setting = next(r for r in rows if r["kind"] == "setting")
    assert setting["expenses"] == 10  # no Employee Claims account chosen: every claim is blocked


def test_a_mapping_change_is_announced_once_per_transaction_after_commit(connection, django_capture_on_commit_callbacks):
    received = []

    def listener(sender, organization, connection, kinds, **kwargs):
        received.append((organization.pk, connection.pk, kinds))

    mappings_changed.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            with transaction.atomic():
                make_category_mapping(connection, "A")
                make_category_mapping(connection, "B")
                TaxMapping.objects.create(connection=connection, tax_code="VAT5")
                assert received == []  # nothing before commit
        assert received == [(connection.organization_id, connection.pk, frozenset({"category", "tax"}))]
        received.clear()
        with django_capture_on_commit_callbacks(execute=True):
            CategoryMapping.objects.get(category_code="A").delete()
        assert received == [(connection.organization_id, connection.pk, frozenset({"category"}))]
    finally:
        mappings_changed.disconnect(listener)


def test_a_rolled_back_change_announces_nothing_and_does_not_swallow_the_next(connection,
                                                                              django_capture_on_commit_callbacks):
    received = []

    def listener(sender, kinds, **kwargs):
        received.append(kinds)

    mappings_changed.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            try:
                with transaction.atomic():
                    make_category_mapping(connection, "A")
                    raise RuntimeError("abort")
            except RuntimeError:
                pass
        assert received == []
        with django_capture_on_commit_callbacks(execute=True):
            TaxMapping.objects.create(connection=connection, tax_code="VAT5")
        assert received == [frozenset({"tax"})]
    finally:
        mappings_changed.disconnect(listener)
