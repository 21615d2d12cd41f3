"""Adapters from the source mirror to resolve's frozen documents, end to end through resolve."""

from decimal import Decimal

from connectors.entry import EntryKind, LineRole
from mappings.documents import (
    document_from_expense,
    document_from_funding,
    document_from_reimbursement,
    document_from_statement_line,
)
from mappings.merchants import normalise_merchant
from mappings.resolve import resolve
from mappings.selectors import mapping_snapshot
from mappings.settings import ConnectionSettings
from tests.mappings.factories import make_category_mapping
from tests.source.factories import (
    _funding,
    _line,
    _reimbursement,
    expense_payload,
    make_report,
    report_payload,
)


def test_expense_document_carries_every_field_resolve_needs(org):
    report = make_report(org, report_payload(5, expenses=[expense_payload(
        501, version=3, type="mileage", funding_source="card", card={"id": "card_1", "last4": "4242"},
        amount="-23.500", currency="KWD", exchange_rate="12.2", merchant="CAREEM*RIDE 99",
        dimensions={"cost_center": "CC-1", "project": ""},
        tax={"code": "VAT5", "rate": "5.00", "amount": "1.12", "inclusive": False},
        receipts=[{"id": "rcp_1", "filename": "r.pdf", "content_type": "application/pdf", "size": 10,
                   "sha256": "ab" * 32, "url": "https://files.example/r.pdf"}])]))
    doc = document_from_expense(report.expenses.get())
    assert (doc.source_id, doc.version, doc.type, doc.funding_source, doc.card_last4) == (
        "exp_501", 3, "mileage", "card", "4242")
    assert (doc.amount, doc.currency, doc.exchange_rate, doc.report_currency) == (
        Decimal("-23.500"), "KWD", Decimal("12.2"), "SAR")
    assert (doc.tax_code, doc.tax_rate, doc.tax_inclusive) == ("VAT5", Decimal("5"), False)
    assert doc.dimensions == (("cost_center", "CC-1"),)
    assert doc.category_code == "OFF" and doc.employee_id == "emp_1" and doc.report_number == report.number
    assert doc.has_receipts and doc.attachments[0].filename == "r.pdf"
    assert normalise_merchant(doc.merchant) == "careem"


def test_bank_documents_resolve(org, connection):
    settings = ConnectionSettings.from_connection(connection)
    snapshot = mapping_snapshot(connection)
    funding = resolve(document_from_funding(_funding(org)), snapshot, settings)
    assert funding.kind is EntryKind.LEDGER_BANK_TRANSACTION and funding.amount == Decimal("-500.00")
    assert [line.role for line in funding.lines] == [LineRole.BANK, LineRole.COUNTERPART]
    reimbursement = resolve(document_from_reimbursement(_reimbursement(org)), snapshot, settings)
    assert reimbursement.lines[1].account == "acc-claims" and reimbursement.lines[1].debit == Decimal("10.00")
    line = resolve(document_from_statement_line(_line(org)), snapshot, settings)
    assert line.kind is EntryKind.STATEMENT_TRANSACTION and line.amount == Decimal("-5.00")


def test_base_currency_connections_convert_with_expensicos_rate(org, connection):
    connection.settings = {"base_currency_amounts": True}
    connection.save()
    make_category_mapping(connection, "OFF", account="6300")
    report = make_report(org, report_payload(6, expenses=[expense_payload(
        601, amount="10.000", currency="KWD", exchange_rate="12.21540000", tax=None, dimensions={})]))
    entry = resolve(document_from_expense(report.expenses.get()), mapping_snapshot(connection),
                    ConnectionSettings.from_connection(connection))
    assert (entry.currency, entry.exchange_rate, entry.gross) == ("SAR", Decimal("12.2154"), Decimal("122.15"))
    assert dict(entry.extra)["original_amount"] == "10.000"
