"""Issue 18, Workday: VAT never silently becomes expense, and a foreign claim books by default;
each read back from the sandbox's own copy of the journal."""

import uuid
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from connectors.base import connector_for
from connectors.workday.sandbox import testkit
from mappings.documents import ExpenseDocument
from mappings.models import TaxMapping
from mappings.resolve import resolve
from mappings.settings import ConnectionSettings
from mappings.snapshot import CategoryRule, DimensionRule, MappingSnapshot, TaxRule

pytestmark = pytest.mark.django_db

CC = {("cost_center", "CC100"): DimensionRule("worktag:Cost_Center_Reference_ID", "CC100", "Finance")}


def _snapshot(tax: TaxRule | None = None) -> MappingSnapshot:
    return MappingSnapshot(version="v~1", base_currency="SAR",
                           categories={("TRAVEL", "", ""): CategoryRule("Standard/6100")},
                           taxes={"VAT15": tax} if tax else {}, dimensions=CC)


def _claim(**kw) -> ExpenseDocument:
    values = dict(source_id="exp_wd", version=1, type="expense", date=date(2026, 11, 1), amount=Decimal("115.00"),
                  currency="SAR", category_code="TRAVEL", funding_source="reimbursable", description="Taxi",
                  dimensions=(("cost_center", "CC100"),))
    return ExpenseDocument(**{**values, **kw})


def _push(connection, document, snapshot):
    entry = resolve(document, snapshot, ConnectionSettings.from_connection(connection))
    connector_for(connection).push(entry, str(uuid.uuid4()))
    return entry


def _lines(server, reference):
    (journal,) = testkit.held(server, reference)
    return journal, {(line["account"], "debit" if Decimal(line["debit"]) else "credit"):
                     Decimal(line["debit"]) or Decimal(line["credit"]) for line in journal["lines"]}


def test_a_tax_code_on_the_expense_line_is_refused_when_the_mapping_is_saved(workday_connection):
    mapping = TaxMapping(connection=workday_connection, tax_code="VAT15", tax_rate="SA_VAT_15")
    with pytest.raises(ValidationError) as exc:
        mapping.full_clean()
    assert "separate_line" in exc.value.message_dict
    assert "SA_VAT_15" in exc.value.message_dict["separate_line"][0]
    TaxMapping(connection=workday_connection, tax_code="VAT15", tax_rate="SA_VAT_15", separate_line=True,
               tax_account="Standard/2300").full_clean()


def test_vat_on_a_separate_line_books_net_and_tax(workday_server, workday_connection):
    entry = _push(workday_connection, _claim(tax_code="VAT15", tax_rate=Decimal("15"), tax_inclusive=True,
                                             tax_amount=Decimal("15.00")),
                  _snapshot(TaxRule("SA_VAT_15", "as_document", True, "Standard/2300")))
    _journal, lines = _lines(workday_server, entry.reference)
    assert lines[("6100", "debit")] == Decimal("100.00") and lines[("2300", "debit")] == Decimal("15.00")


def test_a_foreign_claim_books_by_default_converted_at_expensicos_rate(workday_server, workday_connection):
    assert not workday_connection.settings.get("base_currency_amounts")
    entry = _push(workday_connection, _claim(amount=Decimal("10.000"), currency="KWD",
                                             exchange_rate=Decimal("12.2345"), report_currency="SAR"), _snapshot())
    journal, lines = _lines(workday_server, entry.reference)
    assert journal["currency"] == "SAR"
    assert lines[("6100", "debit")] == Decimal("122.35")
    assert "KWD 10.000 at 12.2345" in journal["memo"]
    # The rate Expensico applied is on every line, read back through Get_Journals with the line's
    # own currency and amount; the ledger amounts (what the books hold) are the converted ones.
    [doc] = [d for page in connector_for(workday_connection).read_back(references=[entry.reference])
             for d in page.documents if d.reference == entry.reference]
    assert doc.raw["line_rates"] == (("KWD", Decimal("12.2345")),) * 2
    assert [(line.debit, line.credit) for line in doc.lines] == [(Decimal("122.35"), 0), (0, Decimal("122.35"))]
    assert [(line["currency"], line["amount"]) for line in journal["lines"]] == [("KWD", "10.000")] * 2


def test_a_rate_beyond_six_decimals_is_sent_at_six_the_ledger_amounts_exact(workday_server, workday_connection):
    entry = _push(workday_connection, _claim(amount=Decimal("10.000"), currency="KWD",
                                             exchange_rate=Decimal("12.23456789"), report_currency="SAR"), _snapshot())
    journal, lines = _lines(workday_server, entry.reference)
    assert {line["rate"] for line in journal["lines"]} == {"12.234568"}
    assert lines[("6100", "debit")] == Decimal("122.35")
