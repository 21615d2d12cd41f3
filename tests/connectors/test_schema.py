"""schema.py is pure: no network, no database."""

from datetime import date
from decimal import Decimal

import pytest

from connectors.bodies import dumps_exact
from connectors.entry import AccountingEntry, Dimension, EntryKind, EntryLine, LineRole
from connectors.wafeq import schema


def expense(lines, **kw):
    return AccountingEntry(kind=EntryKind.EXPENSE, reference="EXPENSICO-e1-v2", date=date(2026, 10, 5),
                           currency=kw.pop("currency", "SAR"), lines=tuple(lines), description="Lunch", **kw)


def test_single_expense_is_one_wafeq_expense_tax_inclusive():
    entry = expense([
        EntryLine(role=LineRole.EXPENSE, account="acc_meals", debit=Decimal("100.00"), tax_rate="tax_vat",
                  tax_amount=Decimal("13.04"), dimensions=(Dimension("cost_center", "cc_1"), Dimension("project", "prj_1"))),
        EntryLine(role=LineRole.PAID_THROUGH, account="acc_claims", credit=Decimal("100.00"))],
        contact="cnt_1")
    payload = schema.expense_payload(entry, attachments=["att_1"])
    assert payload == {
        "account": "acc_meals", "paid_through_account": "acc_claims", "amount": Decimal("100.00"), "currency": "SAR",
        "date": "2026-10-05", "description": "Lunch", "reference": "EXPENSICO-e1-v2", "external_id": "EXPENSICO-e1-v2",
        "attachments": ["att_1"], "cost_center": "cc_1", "project": "prj_1", "tax_rate": "tax_vat",
        "tax_amount_type": "TAX_INCLUSIVE", "contact": "cnt_1"}


def test_separate_tax_line_still_books_the_gross():
    entry = expense([
        EntryLine(role=LineRole.EXPENSE, account="acc_meals", debit=Decimal("86.96"), tax_rate="tax_vat"),
        EntryLine(role=LineRole.TAX, account="acc_vat", debit=Decimal("13.04")),
        EntryLine(role=LineRole.PAID_THROUGH, account="acc_claims", credit=Decimal("100.00"))])
    assert schema.expense_payload(entry)["amount"] == Decimal("100.00")


def test_foreign_currency_sends_exchange_rate_exactly():
    entry = expense([EntryLine(role=LineRole.EXPENSE, account="acc_t", debit=Decimal("10.500")),
                     EntryLine(role=LineRole.PAID_THROUGH, account="acc_c", credit=Decimal("10.500"))],
                    currency="KWD", exchange_rate=Decimal("12.2345"))
    payload = schema.expense_payload(entry, base_currency="SAR")
    assert payload["exchange_rate"] == Decimal("12.2345")
    assert b'"amount": 10.500' in dumps_exact(payload)


def test_several_categories_become_a_balanced_manual_journal():
    entry = expense([
        EntryLine(role=LineRole.EXPENSE, account="acc_meals", debit=Decimal("60.00")),
        EntryLine(role=LineRole.EXPENSE, account="acc_travel", debit=Decimal("40.00")),
        EntryLine(role=LineRole.PAID_THROUGH, account="acc_claims", credit=Decimal("100.00"))])
    assert not schema.is_single_expense(entry)
    with pytest.raises(schema.UnsupportedEntry):
        schema.expense_payload(entry)
    journal = schema.manual_journal_payload(entry, base_currency="SAR")
    amounts = [li["amount"] for li in journal["line_items"]]
    assert amounts == [Decimal("60.00"), Decimal("40.00"), Decimal("-100.00")]
    assert sum(li["amount_to_bcy"] for li in journal["line_items"]) == 0


def test_manual_journal_base_currency_rounding_is_absorbed():
    entry = expense([
        EntryLine(role=LineRole.EXPENSE, account="a", debit=Decimal("0.01")),
        EntryLine(role=LineRole.EXPENSE, account="b", debit=Decimal("0.01")),
        EntryLine(role=LineRole.PAID_THROUGH, account="c", credit=Decimal("0.02"))],
        currency="USD", exchange_rate=Decimal("3.755"))
    journal = schema.manual_journal_payload(entry, base_currency="SAR")
    assert sum(li["amount_to_bcy"] for li in journal["line_items"]) == 0


def test_ledger_and_statement_transactions():
    top_up = AccountingEntry(
        kind=EntryKind.LEDGER_BANK_TRANSACTION, reference="EXPENSICO-f1-v1", date=date(2026, 10, 1), currency="SAR",
        bank_account="ba_1", amount=Decimal("-500.00"),
        lines=(EntryLine(role=LineRole.COUNTERPART, account="acc_balance", debit=Decimal("500.00")),
               EntryLine(role=LineRole.BANK, account="acc_bank", credit=Decimal("500.00"))))
    assert schema.ledger_transaction_payload(top_up) == {
        "account": "acc_balance", "amount": Decimal("-500.00"), "date": "2026-10-01",
        "description": "EXPENSICO-f1-v1", "reference": "EXPENSICO-f1-v1"}
    line = AccountingEntry(kind=EntryKind.STATEMENT_TRANSACTION, reference="EXPENSICO-s1-v1", date=date(2026, 10, 1),
                           currency="SAR", lines=(), bank_account="ba_1", amount=Decimal("-500.00"),
                           bank_reference="FT123", extra=(("statement_balance", "9500.00"),))
    payload = schema.statement_transaction_payload(line)
    assert payload["statement_balance"] == Decimal("9500.00") and payload["bank_reference"] == "FT123"
    no_balance = AccountingEntry(kind=EntryKind.STATEMENT_TRANSACTION, reference="x", date=date(2026, 10, 1),
                                 currency="SAR", lines=(), bank_account="ba_1", amount=Decimal("1.00"))
    with pytest.raises(schema.UnsupportedEntry) as exc:
        schema.statement_transaction_payload(no_balance)
    assert exc.value.field == "statement_balance"
