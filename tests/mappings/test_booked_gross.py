"""The booked gross equals the source, to the minor unit, through `resolve` and every vendor's schema.

Expensico states the amount and (where taxed) the VAT; the tax it states is not always the one the
rate gives (an edited amount's tax is rounded on its own), so documents here state a tax up to one
minor unit off the rate's. Σ booked gross per document must be the source's amount (+ the stated
VAT when it is exclusive), in the document's currency, or that converted once at the entry's rate
where the vendor books in its own currency.
"""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.apideck import schema as apideck
from connectors.business_central import schema as bc
from connectors.entry import AccountingEntry, LineRole
from connectors.money import quantum, round_money
from connectors.moon_erp import schema as moon
from connectors.wafeq import schema as wafeq
from connectors.workday import schema as workday
from connectors.xledger import schema as xledger
from mappings.documents import ExpenseDocument
from mappings.resolve import resolve
from mappings.settings import ConnectionSettings
from mappings.snapshot import CategoryRule, MappingSnapshot, TaxRule

BASE = "SAR"
CURRENCIES = ["SAR", "KWD", "JPY"]          # 2, 3 and 0 decimals
# Remote ids every vendor's schema accepts (Moon's are numeric, its categories prefixed).
TAXES = {"VAT": TaxRule("15", "as_document", False, ""), "VATSEP": TaxRule("15", "as_document", True, "2300")}


def snapshot() -> MappingSnapshot:
    return MappingSnapshot(version="v~1", base_currency=BASE, categories={("MEALS", "", ""): CategoryRule("category:6200")},
                           taxes=TAXES)


def connection_settings(converted: bool) -> ConnectionSettings:
    return ConnectionSettings(employee_claims_account="2100", employees_balance_account="1400",
                              funding_bank_account="1010", base_currency=BASE, base_currency_amounts=converted)


@st.composite
def documents(draw):
    currency = draw(st.sampled_from(CURRENCIES))
    unit = quantum(currency)
    amount = draw(st.integers(1, 10**7)) * unit
    refund = draw(st.booleans())
    tax_code = draw(st.sampled_from(["", "VAT", "VATSEP"]))
    tax = dict(tax_code=tax_code)
    if tax_code:
        rate = draw(st.sampled_from([Decimal("5"), Decimal("15")]))
        inclusive = draw(st.booleans())
        computed = round_money(amount * rate / (100 + rate) if inclusive else amount * rate / 100, currency)
        stated = max(computed + draw(st.sampled_from([-1, 0, 1])) * unit, Decimal(0))
        if inclusive:
            stated = min(stated, amount)
        tax.update(tax_rate=rate, tax_inclusive=inclusive, tax_amount=-stated if refund else stated)
    foreign = currency != BASE
    return ExpenseDocument(
        source_id="exp_1", version=2, type="expense", date=date(2026, 3, 1), amount=-amount if refund else amount,
        currency=currency, category_code="MEALS", funding_source=draw(st.sampled_from(["card", "reimbursable"])),
        description="Lunch", exchange_rate=draw(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("20"),
                                                          places=6)) if foreign else None,
        report_currency=BASE, **tax)


def source_gross(doc: ExpenseDocument) -> Decimal:
    """What the books must show: the amount, plus the stated VAT when it comes on top."""
    exclusive = doc.tax_code and doc.tax_inclusive is False
    return abs(doc.amount) + (abs(doc.tax_amount) if exclusive else 0)


def in_base(doc: ExpenseDocument, amount: Decimal) -> Decimal:
    return amount if doc.currency == BASE else round_money(amount * doc.exchange_rate, BASE)


def stated_vat(doc: ExpenseDocument) -> Decimal:
    return abs(doc.tax_amount) if doc.tax_code else Decimal(0)


def entry_vat(entry: AccountingEntry) -> Decimal:
    """The separate tax line where there is one, else the tax carried on the expense line."""
    if entry.lines_with(LineRole.TAX):
        return sum((abs(line.net) for line in entry.lines_with(LineRole.TAX)), Decimal(0))
    return sum((line.tax_amount for line in entry.lines_with(LineRole.EXPENSE)), Decimal(0))


def positive_sum(amounts) -> Decimal:
    return sum((Decimal(str(a)) for a in amounts if Decimal(str(a)) > 0), Decimal(0))


# Each vendor: the entry → its payload → (currency booked in, gross booked), or None when the
# vendor refuses the entry outright (a refusal is visible, never a wrong amount).
def _wafeq(entry):
    if wafeq.is_single_expense(entry):
        return entry.currency, abs(wafeq.expense_payload(entry, base_currency=BASE)["amount"])
    items = wafeq.manual_journal_payload(entry, base_currency=BASE)["line_items"]
    return entry.currency, positive_sum(i["amount"] for i in items)


def _business_central(entry):
    return BASE, bc.journal_total([ln.body for ln in bc.journal_lines(entry, lcy=BASE, base_currency=BASE)])


def _xledger(entry):
    nodes = [i["node"] for i in xledger.voucher_inputs(entry, base_currency=BASE)]
    return BASE, xledger.voucher_total([n["amount"] for n in nodes])


def _workday(entry):
    try:
        request = workday.journal_request(entry, workday.JournalSettings(company="C100", default_cost_center="CC1"))
    except workday.UnsupportedEntry as exc:
        assert exc.code == "tax_not_carried" and not entry.lines_with(LineRole.TAX)  # tax would be lost
        return None
    lines = request["Accounting_Journal_Data"]["Journal_Entry_Line_Replacement_Data"]
    return entry.currency, workday.total(lines, "Debit_Amount")


def _apideck(entry):
    return entry.currency, apideck.gross(apideck.journal_entry_payload(entry, apideck.ApideckSettings(
        default_cost_center="CC1")))


def _moon(entry):
    try:
        _payload, expected = moon.expense_payload(entry, company_currency=BASE, card_account="1400")
    except moon.UnsupportedEntry as exc:
        # Moon takes neither refunds nor an amount that is all tax (or nothing once converted).
        assert exc.field == "amount" and ("refund" in str(exc) or "before tax" in str(exc)), exc
        return None
    return BASE, expected.total_amount


VENDORS = {"wafeq": _wafeq, "business_central": _business_central, "xledger": _xledger, "workday": _workday,
           "apideck": _apideck, "moon_erp": _moon}


@pytest.mark.parametrize("vendor", VENDORS)
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=documents(), converted=st.booleans())
def test_booked_gross_is_the_source_amount_in_every_vendor(vendor, doc, converted):
    entry = resolve(doc, snapshot(), connection_settings(converted))
    assert isinstance(entry, AccountingEntry), entry
    if entry.currency == doc.currency:
        assert entry.gross == source_gross(doc)
        assert entry_vat(entry) == stated_vat(doc)
    else:
        assert entry.gross == in_base(doc, source_gross(doc))
        assert entry_vat(entry) == in_base(doc, stated_vat(doc))
    booked = VENDORS[vendor](entry)
    if booked is None:
        return
    currency, gross = booked
    assert gross == (source_gross(doc) if currency == doc.currency else in_base(doc, source_gross(doc)))


def test_the_chaos_runs_halala_stays_put():
    """exp_2026_001350 v2: SAR 696.17 + stated VAT 104.42 (the rate gives 104.43) was booked as 800.60."""
    doc = ExpenseDocument(source_id="exp_2026_001350", version=2, type="expense", date=date(2026, 3, 1),
                          amount=Decimal("696.17"), currency="SAR", category_code="MEALS", funding_source="card",
                          tax_code="VAT", tax_rate=Decimal("15"), tax_inclusive=False, tax_amount=Decimal("104.42"))
    entry = resolve(doc, snapshot(), connection_settings(False))
    assert entry.gross == Decimal("800.59")
    assert entry.lines_with(LineRole.EXPENSE)[0].tax_amount == Decimal("104.42")
