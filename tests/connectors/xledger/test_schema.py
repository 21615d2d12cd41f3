"""Xledger schema.py is pure: no network, no database."""

from datetime import date
from decimal import Decimal

import pytest
from graphql import build_schema, parse, validate

from connectors.entry import AccountingEntry, Dimension, EntryKind, EntryLine, LineRole
from connectors.xledger import schema
from connectors.xledger.sandbox import SDL


def entry(lines, **kw):
    return AccountingEntry(kind=kw.pop("kind", EntryKind.EXPENSE), reference="EXPENSICO-e1-v2", date=date(2026, 10, 5),
                           currency=kw.pop("currency", "NOK"), lines=tuple(lines), description="Taxi", **kw)


def pair(amount="1250.00", **expense_kw):
    return [EntryLine(role=LineRole.EXPENSE, account="1042", debit=Decimal(amount), **expense_kw),
            EntryLine(role=LineRole.PAID_THROUGH, account="1031", credit=Decimal(amount))]


def test_one_voucher_one_input_per_line_signed_strings():
    inputs = schema.voucher_inputs(entry(pair(tax_rate="1", tax_amount=Decimal("250.00"))), base_currency="NOK")
    assert [i["clientId"] for i in inputs] == ["0", "1"]
    first, second = inputs[0]["node"], inputs[1]["node"]
    assert first == {"trRegNumber": 20261005, "transactionSource": {"code": "GL"}, "postedDate": "2026-10-05",
                     "invoiceDate": "2026-10-05", "account": {"dbId": "1042"}, "amount": "1250.00", "text": "Taxi",
                     "extIdentifier": "EXPENSICO-e1-v2", "currency": {"code": "NOK"}, "taxRule": {"code": "1"},
                     "taxAmount": "250.00"}
    assert second["amount"] == "-1250.00" and second["extIdentifier"] == "EXPENSICO-e1-v2"
    assert sum(Decimal(i["node"]["amount"]) for i in inputs) == 0


def test_dimensions_map_to_gl_objects_and_project():
    dims = (Dimension("gl_object:2", "1077"), Dimension("project", "P100"), Dimension("cost_center", "ignored"))
    node = schema.voucher_inputs(entry(pair(dimensions=dims)))[0]["node"]
    assert node["glObject2"] == {"dbId": "1077"} and node["project"] == {"code": "P100"}
    assert "cost_center" not in node
    assert schema.dimension_field("gl_object:6") is None


def test_foreign_currency_sends_base_amounts_that_still_balance():
    lines = [EntryLine(role=LineRole.EXPENSE, account="1", debit=Decimal("10.01")),
             EntryLine(role=LineRole.EXPENSE, account="2", debit=Decimal("10.01")),
             EntryLine(role=LineRole.EXPENSE, account="3", debit=Decimal("10.01")),
             EntryLine(role=LineRole.PAID_THROUGH, account="4", credit=Decimal("30.03"))]
    inputs = schema.voucher_inputs(entry(lines, currency="EUR", exchange_rate=Decimal("11.6789")), base_currency="NOK")
    amounts = [Decimal(i["node"]["amount"]) for i in inputs]
    assert sum(amounts) == 0, "rounding drift is absorbed"
    assert [i["node"]["invoiceAmount"] for i in inputs] == ["10.01", "10.01", "10.01", "-30.03"]
    assert inputs[0]["node"]["exchangeRate"] == "11.6789" and inputs[0]["node"]["currency"] == {"code": "EUR"}


def test_foreign_currency_without_rate_is_unsupported():
    with pytest.raises(schema.UnsupportedEntry) as exc:
        schema.voucher_inputs(entry(pair(), currency="EUR"), base_currency="NOK")
    assert exc.value.field == "exchange_rate"


def test_three_decimal_currency_keeps_its_minor_unit():
    inputs = schema.voucher_inputs(entry(pair("12.345"), currency="KWD"))
    assert inputs[0]["node"]["amount"] == "12.345"


def test_reversal_carries_the_original_in_your_reference():
    reversal = entry([EntryLine(role=LineRole.PAID_THROUGH, account="1031", debit=Decimal("5.00")),
                      EntryLine(role=LineRole.EXPENSE, account="1042", credit=Decimal("5.00"))],
                     kind=EntryKind.REVERSAL, reverses="EXPENSICO-e1-v1")
    inputs = schema.voucher_inputs(reversal, your_reference="EXPENSICO-e1-v1")
    assert {i["node"]["yourReference"] for i in inputs} == {"EXPENSICO-e1-v1"}


def test_codes_and_db_ids_are_told_apart():
    assert schema.reference("1042") == {"dbId": "1042"}
    assert schema.reference("STANDARD") == {"code": "STANDARD"}


def test_voucher_total_is_the_gross():
    assert schema.voucher_total(["1250.00", "-1250.00", None]) == Decimal("1250.00")


@pytest.mark.parametrize("document", [
    schema.ADD_VOUCHER, schema.LOOKUP, schema.IMPORT_ERRORS, schema.ENTITY,
    schema.list_query("accounts", "dbId code description ledgerType"),
    schema.list_query("accounts", "dbId code", 'filter: {code: "2940"}')])
def test_documents_are_valid_against_the_subset_schema(document):
    assert validate(build_schema(SDL), parse(document)) == []
