"""Issue 18 item 1: a tax-exclusive source document stays exclusive where the vendor distinguishes
(Wafeq's tax_amount_type, Apideck's tax_inclusive). Pure: no network, no database."""

import dataclasses
from datetime import date
from decimal import Decimal

from connectors.apideck import schema as apideck
from connectors.entry import AccountingEntry, EntryKind, EntryLine, LineRole
from connectors.wafeq import schema as wafeq
from mappings.resolve import resolve
from tests.mappings.test_resolve import SETTINGS, base_doc, snapshot

RATES = {"tax_vat": Decimal("0.15")}


def entry(treatment: str, tax: str = "15.00") -> AccountingEntry:
    return AccountingEntry(
        kind=EntryKind.EXPENSE, reference="EXPENSICO-e1-v1", date=date(2026, 11, 1), currency="SAR",
        extra=(("tax_treatment", treatment),),
        lines=(EntryLine(role=LineRole.EXPENSE, account="acc_meals", debit=Decimal("115.00"), tax_rate="tax_vat",
                         tax_amount=Decimal(tax)),
               EntryLine(role=LineRole.PAID_THROUGH, account="acc_claims", credit=Decimal("115.00"))))


def test_resolve_says_which_treatment_the_source_stated():
    exclusive = resolve(base_doc(amount=Decimal("100.00"), tax_code="VAT15", tax_rate=Decimal("15"),
                                 tax_inclusive=False), snapshot(), SETTINGS)
    inclusive = resolve(base_doc(tax_code="VAT15", tax_rate=Decimal("15"), tax_inclusive=True), snapshot(), SETTINGS)
    assert dict(exclusive.extra)["tax_treatment"] == "exclusive" and exclusive.gross == Decimal("115.00")
    assert dict(inclusive.extra)["tax_treatment"] == "inclusive"
    assert "tax_treatment" not in dict(resolve(base_doc(), snapshot(), SETTINGS).extra)


def test_wafeq_sends_an_exclusive_expense_as_its_net_tax_exclusive():
    payload = wafeq.expense_payload(entry("exclusive"), tax_rates=RATES)
    assert (payload["amount"], payload["tax_amount_type"]) == (Decimal("100.00"), "TAX_EXCLUSIVE")
    assert wafeq.expense_payload(entry("inclusive"), tax_rates=RATES)["tax_amount_type"] == "TAX_INCLUSIVE"


def test_wafeq_keeps_the_gross_when_its_vat_would_differ_from_the_stated_one():
    # Expensico states 15.01 on a net of 99.99: Wafeq would compute 15.00 and move the gross.
    payload = wafeq.expense_payload(entry("exclusive", tax="15.01"), tax_rates=RATES)
    assert (payload["amount"], payload["tax_amount_type"]) == (Decimal("115.00"), "TAX_INCLUSIVE")
    assert wafeq.expense_payload(entry("exclusive"))["tax_amount_type"] == "TAX_INCLUSIVE", "rate unknown"


def test_apideck_states_the_treatment_only_on_a_taxed_document():
    settings = apideck.ApideckSettings(default_cost_center="CC100")
    assert apideck.journal_entry_payload(entry("exclusive"), settings)["tax_inclusive"] is False
    assert apideck.journal_entry_payload(entry("inclusive"), settings)["tax_inclusive"] is True
    untaxed = dataclasses.replace(entry("inclusive"), lines=tuple(
        dataclasses.replace(line, tax_rate=None, tax_amount=Decimal(0)) for line in entry("inclusive").lines))
    assert "tax_inclusive" not in apideck.journal_entry_payload(untaxed, settings)
