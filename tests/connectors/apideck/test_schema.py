"""schema.py is pure: entries in, Apideck JSON out; no network, no database."""

from datetime import date
from decimal import Decimal

import pytest

from connectors.apideck import schema
from connectors.apideck.sandbox.spec import spec, validate
from connectors.entry import AccountingEntry, Dimension, EntryKind, EntryLine, LineRole

CC = Dimension(kind="worktag:Cost_Center_Reference_ID", remote_id="CC100")
TRAVEL = schema.encode_account_id("6100", "Standard")
CLAIMS = schema.encode_account_id("2190", "Standard")


def entry(*lines, reference="EXPENSICO-a1-v1") -> AccountingEntry:
    return AccountingEntry(kind=EntryKind.EXPENSE, reference=reference, date=date(2026, 11, 1), currency="SAR",
                           description="Taxi", lines=lines)


def simple(dims=(CC,)) -> AccountingEntry:
    return entry(EntryLine(role=LineRole.EXPENSE, account=TRAVEL, debit=Decimal("80.00"), dimensions=dims),
                 EntryLine(role=LineRole.EXPENSE, account=TRAVEL, debit=Decimal("35.50"), dimensions=dims),
                 EntryLine(role=LineRole.PAID_THROUGH, account=CLAIMS, credit=Decimal("115.50")))


def test_account_ids_round_trip_and_match_the_documented_example():
    example = "eyJBY2NvdW50X0lkIjoiNjQwMCIsIkFjY291bnRfU2V0X0lkIjoiQ29ycG9yYXRlIn0="
    assert schema.encode_account_id("6400", "Corporate") == example
    assert schema.decode_account_id(example) == {"Account_Id": "6400", "Account_Set_Id": "Corporate"}
    assert schema.readable_account(example) == "Corporate / 6400"
    assert schema.decode_account_id("not-base64!") is None
    assert schema.readable_account("plain") == "plain"


def test_journal_entry_is_explicit_balanced_and_valid_for_the_spec():
    payload = schema.journal_entry_payload(simple(), schema.ApideckSettings(company_id="C100"))
    assert payload["number"] == "EXPENSICO-a1-v1" and payload["status"] == "posted"
    debits = sum(i["total_amount"] for i in payload["line_items"] if i["type"] == "debit")
    credits = sum(i["total_amount"] for i in payload["line_items"] if i["type"] == "credit")
    assert debits == credits == Decimal("115.50")
    assert all({"id": "Cost_Center_Reference_ID", "value": "CC100"} in i["worktags"] for i in payload["line_items"])
    body = {**payload, "line_items": [{**i, "total_amount": float(i["total_amount"])} for i in payload["line_items"]]}
    schema_ref = spec()["paths"]["/accounting/journal-entries"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert validate(schema_ref, body, kind="write") == []
    assert schema.draft_reasons(payload) == []


def test_a_line_without_cost_centre_is_predicted_to_stay_draft():
    payload = schema.journal_entry_payload(simple(dims=()), schema.ApideckSettings())
    reasons = schema.draft_reasons(payload)
    assert reasons and "Cost_Center_Reference_ID" in reasons[0]
    with_default = schema.journal_entry_payload(simple(dims=()), schema.ApideckSettings(default_cost_center="CC9"))
    assert schema.draft_reasons(with_default) == []


def test_expense_credits_the_payment_account_and_debits_the_lines():
    payload = schema.expense_payload(simple(), schema.ApideckSettings(company_id="C100"))
    assert payload["account"] == {"id": CLAIMS, "type": "ledger_account"}
    assert [i["total_amount"] for i in payload["line_items"]] == [Decimal("80.00"), Decimal("35.50")]
    assert payload["total_amount"] == Decimal("115.50") == schema.gross(payload)
    assert payload["line_items"][0]["tracking_categories"] == [{"id": "CC100", "parent_id": "Cost_Center_Reference_ID"}]
    body = {**payload, "total_amount": 115.5,
            "line_items": [{**i, "total_amount": float(i["total_amount"])} for i in payload["line_items"]]}
    schema_ref = spec()["paths"]["/accounting/expenses"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert validate(schema_ref, body, kind="write") == []


def test_expense_shape_needs_one_paid_through_credit():
    two_sided = entry(EntryLine(role=LineRole.EXPENSE, account=TRAVEL, debit=Decimal("1.00"), dimensions=(CC,)),
                      EntryLine(role=LineRole.EXPENSE, account=TRAVEL, credit=Decimal("1.00")))
    assert not schema.fits_expense(two_sided)
    with pytest.raises(schema.UnsupportedEntry):
        schema.expense_payload(two_sided, schema.ApideckSettings())


def test_the_expense_category_mapped_as_a_dimension_is_the_spend_category():
    payload = schema.journal_entry_payload(simple(dims=(CC, Dimension(kind="category", remote_id="SC_TRAVEL"))),
                                           schema.ApideckSettings())
    tags = [t for line in payload["line_items"] for t in line.get("worktags") or []]
    assert {"id": "Spend_Category_ID", "value": "SC_TRAVEL"} in tags


@pytest.mark.parametrize("document", ["journal_entry", "expense"])
def test_a_dimension_workday_cannot_carry_is_refused_not_dropped(document):
    branch = Dimension(kind="branch", remote_id="BR1")
    build = schema.expense_payload if document == "expense" else schema.journal_entry_payload
    with pytest.raises(schema.UnsupportedEntry) as exc:
        build(simple(dims=(CC, branch)), schema.ApideckSettings())
    assert exc.value.code == "unsupported_dimension" and exc.value.field == "dimensions.branch"
    # A value mapped as "don't send" (no remote id) is not a dimension to carry.
    assert build(simple(dims=(CC, Dimension(kind="branch", remote_id=""))), schema.ApideckSettings())
