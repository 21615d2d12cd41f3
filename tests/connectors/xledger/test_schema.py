"""Xledger schema.py is pure: no network, no database."""

from datetime import date
from decimal import Decimal

import pytest
from graphql import build_schema, extend_schema, parse, validate

from connectors.entry import AccountingEntry, Dimension, EntryKind, EntryLine, LineRole
from connectors.xledger import schema
from connectors.xledger.sandbox.server import LOOKUP_FILTERS_SDL, SDL


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
    dims = (Dimension("gl_object:2", "1077"), Dimension("project", "P100"), Dimension("xgl", "X1"))
    node = schema.voucher_inputs(entry(pair(dimensions=dims)))[0]["node"]
    assert node["glObject2"] == {"dbId": "1077"} and node["project"] == {"code": "P100"} and node["xgl"] == {"code": "X1"}
    assert schema.dimension_field("gl_object:6") is None


@pytest.mark.parametrize("kind", ["cost_center", "gl_object:6", "worktag:Cost_Center"])
def test_a_dimension_kind_without_a_field_is_refused_not_dropped(kind):
    dims = (Dimension("project", "P100"), Dimension(kind, "CC-1"))
    with pytest.raises(schema.UnsupportedDimension) as exc:
        schema.voucher_inputs(entry(pair(dimensions=dims)))
    assert exc.value.code == "unsupported_dimension" and exc.value.field == f"dimensions.{kind}"
    assert kind in str(exc.value)


def test_the_paid_through_line_counter_posts_to_the_employee_subledger():
    lines = [EntryLine(role=LineRole.EXPENSE, account="1042", debit=Decimal("900.00")),
             EntryLine(role=LineRole.TAX, account="1050", debit=Decimal("100.00")),
             EntryLine(role=LineRole.PAID_THROUGH, account="1031", credit=Decimal("1000.00"))]
    inputs = schema.voucher_inputs(entry(lines), subledger="100")
    assert [i["node"].get("subledger") for i in inputs] == [None, None, {"code": "100"}]
    assert all("subledger" not in i["node"] for i in schema.voucher_inputs(entry(lines)))


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
    schema.ADD_VOUCHER, schema.IMPORT_ERRORS, schema.ENTITY, schema.LOOKUP_FILTERS,
    schema.window_lookup(["items", "errors"]), schema.window_lookup(["errors"]),
    schema.list_query("accounts", "dbId code description ledgerType"),
    schema.list_query("accounts", "dbId code", 'filter: {code: "2940"}')])
def test_documents_are_valid_against_the_subset_schema(document):
    assert validate(build_schema(SDL), parse(document)) == []


def test_the_filtered_lookup_needs_the_reference_filters_the_contract_does_not_know():
    assert validate(build_schema(SDL), parse(schema.LOOKUP)), "only documented filters in the default schema"
    extended = extend_schema(build_schema(SDL), parse(LOOKUP_FILTERS_SDL))
    assert validate(extended, parse(schema.LOOKUP)) == []


DOCUMENTED_FILTERS = {"modifiedAt_gte", "code", "objectKindDbId", "subledgerDbId", "chartOfAccountDbId"}


def test_the_subset_schema_filters_only_by_documented_names():
    types = build_schema(SDL).type_map
    used = {name for type_name, kind in types.items() if type_name.endswith("Filter")
            for name in kind.fields}
    assert used and used <= DOCUMENTED_FILTERS, used - DOCUMENTED_FILTERS
