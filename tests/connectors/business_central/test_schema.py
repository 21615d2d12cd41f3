"""Business Central schema.py is pure: no network, no database."""

import json
import string
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.bodies import dumps_exact
from connectors.business_central import schema
from connectors.entry import AccountingEntry, Dimension, EntryKind, EntryLine, LineRole


def entry(lines, **kw):
    return AccountingEntry(kind=kw.pop("kind", EntryKind.EXPENSE), reference=kw.pop("reference", "EXPENSICO-e1-v2"),
                           date=date(2026, 10, 5), currency=kw.pop("currency", "GBP"), lines=tuple(lines),
                           description=kw.pop("description", "Taxi"), **kw)


def pair(amount="115.00", **expense_kw):
    return [EntryLine(role=LineRole.EXPENSE, account="acc-travel", debit=Decimal(amount), **expense_kw),
            EntryLine(role=LineRole.PAID_THROUGH, account="acc-claims", credit=Decimal(amount))]


def test_short_reference_keeps_short_upper_case_references():
    assert schema.short_reference("EXP-000123") == "EXP-000123"


def test_short_reference_hashes_long_or_lower_case_references_into_20_characters():
    short = schema.short_reference("EXPENSICO-rpt_01HF8Z3K9Q-v12")
    assert len(short) == 20 and short.startswith("EXP-") and short == short.upper()
    assert schema.short_reference("EXPENSICO-rpt_01HF8Z3K9Q-v12") == short, "deterministic"
    # Case matters in our ids but not in BC's Code fields: the hash keeps them apart.
    assert schema.short_reference("EXPENSICO-c1-v1") != schema.short_reference("EXPENSICO-C1-V1")


@given(st.lists(st.text(alphabet=string.ascii_letters + string.digits + "-_", min_size=1, max_size=60),
                min_size=2, max_size=200, unique=True))
def test_short_references_fit_and_do_not_collide(references):
    shorts = [schema.short_reference(r) for r in references]
    assert all(len(s) <= 20 and s == s.upper() for s in shorts)
    assert len(set(shorts)) == len(references)


def test_two_line_expense_is_one_journal_line_with_a_balancing_account():
    lines = schema.journal_lines(entry(pair(tax_rate="STANDARD", tax_amount=Decimal("19.17"))))
    assert len(lines) == 1
    short = schema.short_reference("EXPENSICO-e1-v2")
    assert lines[0].body == {
        "postingDate": "2026-10-05", "documentNumber": short, "externalDocumentNumber": short,
        "comment": "EXPENSICO-e1-v2", "accountType": "G/L Account", "accountId": "acc-travel",
        "amount": Decimal("115.00"), "description": "Taxi", "balanceAccountType": "G/L Account",
        "balancingAccountId": "acc-claims", "taxCode": "STANDARD"}
    assert lines[0].dimensions == []


def test_amounts_travel_as_exact_json_numbers():
    body = schema.journal_lines(entry(pair("0.10")))[0].body
    assert b'"amount": 0.10' in dumps_exact(body)


def test_dimensions_become_dimension_set_lines():
    dims = (Dimension("dimension:DEPARTMENT", "val-sales"), Dimension("project", "prj-1"))
    lines = schema.journal_lines(entry(pair(dimensions=dims)))
    # The paid-through line carries no dimensions of its own: still one balanced line.
    assert len(lines) == 1
    assert lines[0].dimensions == [{"code": "DEPARTMENT", "valueId": "val-sales"}, {"code": "PROJECT", "valueId": "prj-1"}]


def test_multi_line_entry_is_one_signed_line_per_entry_line():
    lines = schema.journal_lines(entry([
        EntryLine(role=LineRole.EXPENSE, account="acc-travel", debit=Decimal("80.00"),
                  dimensions=(Dimension("dimension:AREA", "v10"),)),
        EntryLine(role=LineRole.EXPENSE, account="acc-meals", debit=Decimal("35.00")),
        EntryLine(role=LineRole.PAID_THROUGH, account="acc-claims", credit=Decimal("115.00"))]))
    assert [ln.body["amount"] for ln in lines] == [Decimal("80.00"), Decimal("35.00"), Decimal("-115.00")]
    assert sum(ln.body["amount"] for ln in lines) == 0
    assert all("balancingAccountId" not in ln.body for ln in lines)
    assert lines[0].dimensions == [{"code": "AREA", "valueId": "v10"}] and lines[1].dimensions == []
    assert schema.journal_total([ln.body for ln in lines]) == Decimal("115.00")


def test_bank_line_goes_on_the_balancing_side():
    funding = entry([EntryLine(role=LineRole.BANK, account="bank-1", debit=Decimal("500.00")),
                     EntryLine(role=LineRole.COUNTERPART, account="acc-balance", credit=Decimal("500.00"))],
                    kind=EntryKind.LEDGER_BANK_TRANSACTION)
    body = schema.journal_lines(funding)[0].body
    assert body["accountId"] == "acc-balance" and body["amount"] == Decimal("-500.00")
    assert body["balanceAccountType"] == "Bank Account" and body["balancingAccountId"] == "bank-1"


def test_long_descriptions_are_cut_to_bc_length():
    body = schema.journal_lines(entry(pair(), description="x" * 80))[0].body
    assert len(body["description"]) == schema.DESCRIPTION_LENGTH


def test_statement_transactions_are_not_expressible():
    statement = AccountingEntry(kind=EntryKind.STATEMENT_TRANSACTION, reference="EXPENSICO-s1-v1",
                                date=date(2026, 10, 5), currency="GBP", lines=(), amount=Decimal("10.00"),
                                bank_account="bank-1")
    with pytest.raises(schema.UnsupportedEntry) as exc:
        schema.journal_lines(statement)
    assert exc.value.field == "kind"


def test_purchase_invoice_lines_are_the_cost_lines():
    invoice = schema.purchase_invoice(entry([
        EntryLine(role=LineRole.EXPENSE, account="acc-travel", debit=Decimal("100.00"), tax_rate="STANDARD",
                  dimensions=(Dimension("dimension:DEPARTMENT", "val-adm"),)),
        EntryLine(role=LineRole.TAX, account="acc-vat", debit=Decimal("20.00")),
        EntryLine(role=LineRole.PAID_THROUGH, account="acc-claims", credit=Decimal("120.00"))]), vendor_id="vend-1")
    assert invoice.header == {"vendorId": "vend-1", "vendorInvoiceNumber": schema.short_reference("EXPENSICO-e1-v2"),
                              "invoiceDate": "2026-10-05", "postingDate": "2026-10-05", "currencyCode": "GBP"}
    assert [ln.body["unitCost"] for ln in invoice.lines] == [Decimal("100.00"), Decimal("20.00")]
    assert invoice.lines[0].body["lineType"] == "Account" and invoice.lines[0].body["taxCode"] == "STANDARD"
    assert invoice.lines[0].body["description2"] == "EXPENSICO-e1-v2"
    assert invoice.lines[0].dimensions == [{"code": "DEPARTMENT", "valueId": "val-adm"}]


def test_purchase_invoice_needs_a_vendor():
    with pytest.raises(schema.UnsupportedEntry) as exc:
        schema.purchase_invoice(entry(pair()), vendor_id="")
    assert exc.value.field == "contact"


def test_batch_numbers_operations_and_refuses_more_than_100():
    body = schema.batch([{"method": "POST", "url": "companies(c)/journals(j)/journalLines", "body": {"a": 1}},
                         {"method": "DELETE", "url": "companies(c)/journalLines(l)", "headers": {"If-Match": "*"}}])
    assert [r["id"] for r in body["requests"]] == ["1", "2"]
    assert body["requests"][1]["headers"] == {"Content-Type": "application/json", "If-Match": "*"}
    assert "body" not in body["requests"][1]
    json.dumps(body)
    with pytest.raises(ValueError):
        schema.batch([{"method": "GET", "url": "x"}] * 101)
    assert [len(c) for c in schema.chunks(list(range(250)))] == [100, 100, 50]


def test_odata_quote_doubles_single_quotes():
    assert schema.odata_quote("O'Brien") == "'O''Brien'"


def test_foreign_journal_is_converted_to_the_local_currency_and_still_balances():
    foreign = entry([EntryLine(role=LineRole.EXPENSE, account="a", debit=Decimal("10.01")),
                     EntryLine(role=LineRole.EXPENSE, account="b", debit=Decimal("10.01")),
                     EntryLine(role=LineRole.EXPENSE, account="c", debit=Decimal("10.01")),
                     EntryLine(role=LineRole.PAID_THROUGH, account="d", credit=Decimal("30.03"))],
                    currency="EUR", exchange_rate=Decimal("0.8567"))
    amounts = [ln.body["amount"] for ln in schema.journal_lines(foreign, lcy="GBP", base_currency="GBP")]
    # The paid-through side is the document's gross converted once; a cost line takes the rounding.
    assert sum(amounts) == 0 and amounts[3] == Decimal("-25.73")
    assert sorted(amounts[:3]) == [Decimal("8.57"), Decimal("8.58"), Decimal("8.58")]
    assert schema.journal_lines(entry(pair()), lcy="GBP")[0].body["amount"] == Decimal("115.00")


def test_foreign_journal_needs_a_rate_to_the_local_currency():
    with pytest.raises(schema.UnsupportedEntry) as exc:
        schema.journal_lines(entry(pair(), currency="EUR", exchange_rate=Decimal("0.85")), lcy="GBP",
                             base_currency="SAR")
    assert exc.value.field == "exchange_rate"


def test_purchase_invoice_leaves_the_local_currency_empty():
    invoice = schema.purchase_invoice(entry(pair()), vendor_id="v", lcy="GBP")
    assert invoice.header["currencyCode"] == ""
    assert schema.purchase_invoice(entry(pair(), currency="EUR"), vendor_id="v", lcy="GBP").header["currencyCode"] == "EUR"


@pytest.mark.parametrize("kind", ["worktag:Cost_Center_Reference_ID", "gl_object:1", "", "dimension:"])
def test_a_dimension_kind_bc_cannot_carry_is_refused_not_dropped(kind):
    dims = (Dimension("dimension:DEPARTMENT", "val-sales"), Dimension(kind, "wt-1", "CC-100"))
    for build in (schema.journal_lines, lambda e: schema.purchase_invoice(e, vendor_id="v")):
        with pytest.raises(schema.UnsupportedEntry) as exc:
            build(entry(pair(dimensions=dims)))
        assert exc.value.code == "unsupported_dimension" and exc.value.field == "dimensions"


def test_pending_numbers_and_posting_journal_codes_fit_and_are_deterministic():
    short = schema.short_reference("EXPENSICO-e1-v2")
    pending, journal = schema.pending_number(short), schema.posting_journal_code(short)
    assert len(pending) <= schema.CODE_LENGTH and pending == pending.upper() and pending != short
    assert len(journal) <= schema.JOURNAL_CODE_LENGTH and journal == journal.upper()
    assert (schema.pending_number(short), schema.posting_journal_code(short)) == (pending, journal)
    other = schema.short_reference("EXPENSICO-e2-v2")
    assert schema.pending_number(other) != pending and schema.posting_journal_code(other) != journal
