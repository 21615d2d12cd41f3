"""connectors/moon_erp/schema.py is pure: no network, no database."""

from datetime import date
from decimal import Decimal

import pytest

from connectors.entry import AccountingEntry, Dimension, EntryKind, EntryLine, LineRole
from connectors.moon_erp import schema

D = Decimal


def expense(lines, **kw):
    return AccountingEntry(kind=kw.pop("kind", EntryKind.EXPENSE), reference=kw.pop("reference", "EXPENSICO-e1-v2"),
                           date=date(2026, 10, 5), currency=kw.pop("currency", "SAR"), lines=tuple(lines),
                           description=kw.pop("description", "Lunch"), **kw)


def cost(amount, tax="0", rate=None, account="category:3", dims=(), inclusive=True):
    return EntryLine(role=LineRole.EXPENSE, account=account, debit=D(amount), tax_rate=rate, tax_amount=D(tax),
                     tax_inclusive=inclusive, dimensions=dims)


def paid(amount, account="21"):
    return EntryLine(role=LineRole.PAID_THROUGH, account=account, credit=D(amount))


def test_tax_inclusive_expense_becomes_one_draft_with_net_amount_and_rate():
    entry = expense([cost("115.00", "15.00", "1", dims=(Dimension("cost_center", "2"), Dimension("branch", "1"))),
                     paid("115.00")], contact="5", merchant="Al Baik", employee="Sara", description_ar="غداء")
    payload, expected = schema.expense_payload(entry, company_currency="SAR", card_account="30")
    assert payload == {
        "date": "2026-10-05", "expense_category_id": 3, "description": "Lunch [EXPENSICO-e1-v2]",
        "description_ar": "غداء", "amount": "100.000", "payment_method": "cash", "paying_account_id": 21,
        "notes": "EXPENSICO-e1-v2\nEmployee: Sara\nMerchant: Al Baik", "tax_rate_id": 1, "cost_center_id": 2,
        "branch_id": 1, "partner_id": 5}
    assert expected == schema.Expected(amount=D("100.00"), tax_amount=D("15.00"), total_amount=D("115.00"))
    assert all(not isinstance(v, float) for v in payload.values())


def test_card_spend_is_a_card_payment():
    entry = expense([cost("50.00"), paid("50.00", account="30")])
    payload, expected = schema.expense_payload(entry, card_account="30")
    assert payload["payment_method"] == "card" and payload["paying_account_id"] == 30
    assert "tax_rate_id" not in payload and payload["amount"] == "50.000" and expected.tax_amount == 0


def test_no_tax_rate_keeps_tax_in_the_cost():
    entry = expense([cost("115.00", "15.00", None), paid("115.00")])
    payload, expected = schema.expense_payload(entry)
    assert payload["amount"] == "115.000" and "tax_rate_id" not in payload
    assert expected.total_amount == D("115.00") and expected.tax_amount == 0


def test_separate_tax_line_is_folded_back_for_moon_to_compute():
    entry = expense([cost("100.00", "15.00", "1", inclusive=False),
                     EntryLine(role=LineRole.TAX, account="5", debit=D("15.00"), tax_rate="1"), paid("115.00")])
    payload, expected = schema.expense_payload(entry)
    assert payload["amount"] == "100.000" and payload["tax_rate_id"] == 1
    assert expected == schema.Expected(D("100.00"), D("15.00"), D("115.00"))


def test_same_shaped_lines_are_summed():
    entry = expense([cost("57.50", "7.50", "1"), cost("57.50", "7.50", "1"), paid("115.00")])
    payload, expected = schema.expense_payload(entry)
    assert payload["amount"] == "100.000" and expected.tax_amount == D("15.00")


@pytest.mark.parametrize("lines,field", [
    ([cost("10.00", account="category:3"), cost("10.00", account="category:4"), paid("20.00")], "lines"),
    ([cost("10.00", "1.30", "1"), cost("10.00", "0.48", "3"), paid("20.00")], "lines"),
    ([cost("10.00", dims=(Dimension("cost_center", "1"),)), cost("10.00", dims=(Dimension("cost_center", "2"),)),
      paid("20.00")], "lines"),
    ([cost("10.00", account="8"), paid("10.00")], "expense_category_id"),      # a GL account, not a category
    ([cost("10.00"), paid("10.00", account="acc_x")], "paying_account_id"),
    ([EntryLine(role=LineRole.EXPENSE, account="category:3", credit=D("10.00")),
      EntryLine(role=LineRole.PAID_THROUGH, account="21", debit=D("10.00"))], "amount"),   # a refund
])
def test_what_moon_cannot_express_is_refused_with_the_field(lines, field):
    with pytest.raises(schema.UnsupportedEntry) as exc:
        schema.expense_payload(expense(lines))
    assert exc.value.field == field


def test_a_dimension_moon_cannot_carry_is_refused_not_dropped():
    dims = (Dimension("cost_center", "2"), Dimension("project", "p9", label="NEOM"))
    with pytest.raises(schema.UnsupportedEntry) as exc:
        schema.expense_payload(expense([cost("115.00", "15.00", "1", dims=dims), paid("115.00")]))
    assert (exc.value.code, exc.value.field) == ("unsupported_dimension", "project")
    assert "NEOM" in str(exc.value) and "cost_center or branch" in str(exc.value)


def test_other_currency_than_the_company_is_refused_without_a_rate():
    with pytest.raises(schema.UnsupportedEntry) as exc:
        schema.expense_payload(expense([cost("10.000"), paid("10.000")], currency="KWD"), company_currency="SAR")
    assert exc.value.field == "exchange_rate"


def test_a_foreign_expense_is_converted_at_its_rate_and_keeps_the_original_in_the_notes():
    entry = expense([cost("11.500", tax="1.500", rate="7"), paid("11.500")], currency="KWD",
                    exchange_rate=D("12.2345"))
    payload, expected = schema.expense_payload(entry, company_currency="SAR", base_currency="SAR")
    assert (expected.total_amount, expected.tax_amount, expected.amount) == (D("140.70"), D("18.35"), D("122.35"))
    assert payload["amount"] == "122.350" and "Original: KWD 11.500 at 12.2345" in payload["notes"]
    with pytest.raises(schema.UnsupportedEntry):   # the rate is to SAR, not to the company's AED
        schema.expense_payload(entry, company_currency="AED", base_currency="SAR")


def test_reversal_is_not_an_expense():
    entry = expense([EntryLine(role=LineRole.PAID_THROUGH, account="21", debit=D("10")),
                     EntryLine(role=LineRole.EXPENSE, account="category:3", credit=D("10"))], kind=EntryKind.REVERSAL)
    with pytest.raises(schema.UnsupportedEntry):
        schema.expense_payload(entry)


def test_long_description_keeps_the_reference():
    payload, _ = schema.expense_payload(expense([cost("1.00"), paid("1.00")], description="x" * 400))
    assert len(payload["description"]) == 255 and payload["description"].endswith("[EXPENSICO-e1-v2]")


def test_reference_matching_is_whole_token():
    row = {"notes": "EXPENSICO-e1-v10\nEmployee: Sara", "description": "Lunch"}
    assert schema.holds_reference(row, "EXPENSICO-e1-v10")
    assert not schema.holds_reference(row, "EXPENSICO-e1-v1")
    assert schema.holds_reference({"notes": None, "description": "Lunch [EXPENSICO-e1-v1]"}, "EXPENSICO-e1-v1")


def test_mismatches_compare_at_the_currency_minor_unit():
    expected = schema.Expected(D("8.70"), D("1.30"), D("10.00"))
    same = {"amount": "8.700", "tax_amount": "1.300", "total_amount": "10.000"}
    assert schema.mismatches(expected, same, "SAR") == []
    # Moon's 8.70 × 15% = 1.305: a half-halala it would book that our entry does not have.
    moon = {"amount": "8.700", "tax_amount": "1.305", "total_amount": "10.005"}
    assert [f for f, _ in schema.mismatches(expected, moon, "SAR")] == ["tax_amount", "total_amount"]
    kwd = schema.Expected(D("1.000"), D("0.050"), D("1.050"))
    assert [f for f, _ in schema.mismatches(kwd, {"amount": "1.000", "tax_amount": "0.049",
                                                 "total_amount": "1.049"}, "KWD")] == ["tax_amount", "total_amount"]


def test_money_is_three_decimal_strings():
    assert schema.money(D("1500")) == "1500.000" and schema.money(D("0.5")) == "0.500"


def test_tolerance_lets_small_differences_pass():
    expected = schema.Expected(D("8.70"), D("1.30"), D("10.00"))
    moon = {"amount": "8.700", "tax_amount": "1.305", "total_amount": "10.005"}
    assert schema.mismatches(expected, moon, "SAR", tolerance=D("0.01")) == []
    assert len(schema.mismatches(expected, moon, "SAR", tolerance=D("0.001"))) == 2
