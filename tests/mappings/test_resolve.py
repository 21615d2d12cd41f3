"""Properties of the pure resolver: balance, no lost minor unit, refund symmetry, idempotence."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.entry import AccountingEntry, EntryKind, LineRole
from connectors.money import minor_exponent, round_money
from mappings.documents import ExpenseDocument, FundingDocument, ReimbursementDocument, StatementLineDocument
from mappings.resolve import MappingGap, holds_for, resolve, tax_split
from mappings.settings import ConnectionSettings
from mappings.snapshot import (
    CategoryRule,
    CurrencyRule,
    DimensionRule,
    HoldRuleData,
    MappingSnapshot,
    MerchantRuleData,
    TaxRule,
)

CURRENCIES = ["SAR", "KWD", "JPY", "AED", "USD", "BHD"]
SETTINGS = ConnectionSettings(employee_claims_account="2100", employees_balance_account="1400",
                              funding_bank_account="1010", base_currency="SAR")
FX_SETTINGS = ConnectionSettings(**{**SETTINGS.__dict__, "base_currency_amounts": True})
RATE_DATE = date(2026, 1, 1)


def snapshot(**kwargs) -> MappingSnapshot:
    base = dict(
        version="2026-11-01T00:00:00+00:00~abc", base_currency="SAR",
        categories={("TRAVEL", "", ""): CategoryRule("6100"), ("TRAVEL", "card", ""): CategoryRule("6101"),
                    ("TRAVEL", "", "mileage"): CategoryRule("6102"),
                    ("TRAVEL", "card", "mileage"): CategoryRule("6103"), ("MEALS", "", ""): CategoryRule("6200")},
        taxes={"VAT15": TaxRule("tr-15", "as_document", False, ""),
               "VATSEP": TaxRule("tr-15s", "as_document", True, "1500"),
               "VATEXC": TaxRule("tr-15x", "exclusive", False, "")},
        dimensions={("cost_center", "CC-1"): DimensionRule("cost_center", "cc-remote-1", "Sales"),
                    ("project", "P-0"): DimensionRule("project", "", "")},
        merchants={"careem": MerchantRuleData("contact-careem", "TRAVEL")},
        rates={cur: ((RATE_DATE, Decimal("3.75")),) for cur in CURRENCIES if cur != "SAR"},
    )
    base.update(kwargs)
    return MappingSnapshot(**base)


def amounts(currency):
    places = minor_exponent(currency)
    return st.decimals(min_value=Decimal("-999999"), max_value=Decimal("999999"), places=places,
                       allow_nan=False, allow_infinity=False)


@st.composite
def expenses(draw, currency=None):
    cur = currency or draw(st.sampled_from(CURRENCIES))
    tax_code = draw(st.sampled_from(["", "VAT15", "VATSEP", "VATEXC"]))
    return ExpenseDocument(
        source_id=draw(st.from_regex(r"exp_[a-z0-9]{4}", fullmatch=True)),
        version=draw(st.integers(1, 5)),
        type=draw(st.sampled_from(["expense", "mileage", "per_diem", "driver_honorarium"])),
        date=draw(st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 12, 31))),
        amount=draw(amounts(cur)), currency=cur,
        category_code=draw(st.sampled_from(["TRAVEL", "MEALS"])),
        funding_source=draw(st.sampled_from(["reimbursable", "card"])),
        exchange_rate=draw(st.none() | st.decimals(min_value=Decimal("0.001"), max_value=Decimal("500"), places=6)),
        report_currency=draw(st.sampled_from(["SAR", cur])),
        tax_code=tax_code,
        tax_rate=draw(st.sampled_from([Decimal("0"), Decimal("5"), Decimal("15"), Decimal("12.5")])) if tax_code else None,
        tax_inclusive=draw(st.none() | st.booleans()),
        dimensions=draw(st.sampled_from([(), (("cost_center", "CC-1"),), (("cost_center", "CC-1"), ("project", "P-0")),
                                         (("region", "WEST"),)])),
        merchant=draw(st.sampled_from(["", "CAREEM*RIDE 1234", "Starbucks"])),
    )


def negate(doc: ExpenseDocument) -> ExpenseDocument:
    return ExpenseDocument(**{**doc.__dict__, "amount": -doc.amount})


MANY = settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@MANY
@given(expenses(), st.booleans())
def test_entries_balance_exactly_and_fit_the_minor_unit(doc, fx):
    entry = resolve(doc, snapshot(), FX_SETTINGS if fx else SETTINGS)
    assert isinstance(entry, AccountingEntry)
    assert entry.total_debit == entry.total_credit
    for line in entry.lines:
        for money in (line.debit, line.credit, line.tax_amount):
            assert money == round_money(money, entry.currency)
    assert entry.mapping_version == "2026-11-01T00:00:00+00:00~abc"


@MANY
@given(expenses())
def test_no_minor_unit_is_lost(doc):
    """The paid-through side is the document's total, to the minor unit; tax never goes astray."""
    entry = resolve(doc, snapshot(), SETTINGS)
    magnitude = abs(doc.amount)
    rule = snapshot().taxes.get(doc.tax_code)
    inclusive = doc.tax_inclusive is not False if rule is None or rule.treatment == "as_document" else rule.treatment == "inclusive"
    net, tax = tax_split(magnitude, doc.tax_rate or Decimal(0), inclusive, doc.currency)
    expected_total = magnitude if inclusive else magnitude + tax
    assert entry.gross == expected_total
    expense_and_tax = sum((abs(line.net) for line in entry.lines if line.role in (LineRole.EXPENSE, LineRole.TAX)),
                          Decimal(0))
    assert expense_and_tax == expected_total
    assert sum((line.tax_amount for line in entry.lines_with(LineRole.EXPENSE)), Decimal(0)) == tax


@MANY
@given(expenses(), st.booleans())
def test_a_refund_mirrors_the_expense(doc, fx):
    s = FX_SETTINGS if fx else SETTINGS
    forward, backward = resolve(doc, snapshot(), s), resolve(negate(doc), snapshot(), s)
    if doc.amount == 0:
        return
    assert len(forward.lines) == len(backward.lines)
    for a, b in zip(forward.lines, backward.lines, strict=True):
        assert (a.role, a.account, a.tax_amount, a.dimensions) == (b.role, b.account, b.tax_amount, b.dimensions)
        assert (a.debit, a.credit) == (b.credit, b.debit)


@MANY
@given(expenses(), st.booleans())
def test_resolve_is_idempotent(doc, fx):
    s = FX_SETTINGS if fx else SETTINGS
    assert resolve(doc, snapshot(), s) == resolve(doc, snapshot(), s)


@settings(max_examples=500, deadline=None)
@given(expenses(currency="KWD"))
def test_fx_converts_to_base_and_records_the_rate(doc):
    entry = resolve(doc, snapshot(), FX_SETTINGS)
    assert entry.currency == "SAR"
    if doc.report_currency == "SAR" and doc.exchange_rate is not None:
        assert entry.exchange_rate == doc.exchange_rate  # Expensico's rate by default
    else:
        assert entry.exchange_rate == Decimal("3.75")    # otherwise the rate table
    rule = snapshot().taxes.get(doc.tax_code)
    inclusive = doc.tax_inclusive is not False if rule is None or rule.treatment == "as_document" else rule.treatment == "inclusive"
    net, tax = tax_split(abs(doc.amount), doc.tax_rate or Decimal(0), inclusive, "KWD")
    assert entry.gross == round_money((net + tax) * entry.exchange_rate, "SAR")


def base_doc(**kw):
    values = dict(source_id="exp_1", version=2, type="expense", date=date(2026, 3, 1), amount=Decimal("115.00"),
                  currency="SAR", category_code="TRAVEL", funding_source="reimbursable")
    values.update(kw)
    return ExpenseDocument(**values)


def test_inclusive_vat_is_split_and_claims_are_paid_through_employee_claims():
    entry = resolve(base_doc(tax_code="VATSEP", tax_rate=Decimal("15"), tax_inclusive=True), snapshot(), SETTINGS)
    assert entry.reference == "EXPENSICO-exp_1-v2"
    expense, tax, paid = entry.lines
    assert (expense.role, expense.account, expense.debit) == (LineRole.EXPENSE, "6100", Decimal("100.00"))
    assert (tax.role, tax.account, tax.debit) == (LineRole.TAX, "1500", Decimal("15.00"))
    assert (paid.role, paid.account, paid.credit) == (LineRole.PAID_THROUGH, "2100", Decimal("115.00"))


def test_exclusive_tax_is_added_and_cards_are_paid_through_employees_balance():
    entry = resolve(base_doc(amount=Decimal("1.000"), currency="KWD", funding_source="card", tax_code="VAT15",
                             tax_rate=Decimal("15"), tax_inclusive=False), snapshot(), SETTINGS)
    expense, paid = entry.lines
    assert (expense.account, expense.debit, expense.tax_amount, expense.tax_rate) == ("6101", Decimal("1.150"),
                                                                                     Decimal("0.150"), "tr-15")
    assert (paid.account, paid.credit) == ("1400", Decimal("1.150"))


def test_overrides_per_type_and_merchant_contact_and_dimensions():
    entry = resolve(base_doc(type="mileage", funding_source="card", merchant="Careem",
                             dimensions=(("cost_center", "CC-1"), ("project", "P-0"), ("region", "X"))),
                    snapshot(), SETTINGS)
    assert entry.lines[0].account == "6103"
    assert entry.contact == "contact-careem"
    # project P-0 is mapped to "don't send"; region is not a mapped key at all.
    assert [(d.kind, d.remote_id) for d in entry.lines[0].dimensions] == [("cost_center", "cc-remote-1")]


def test_the_expense_category_maps_like_a_dimension_once_any_category_is_mapped_so():
    """Workday tags lines with a spend category: a `category` dimension mapping carries it, and
    an expense whose category has no such mapping is a gap, not a line sent without the worktag."""
    dims = {("category", "TRAVEL"): DimensionRule("spend_category", "SC-TRAVEL", "Travel")}
    entry = resolve(base_doc(), snapshot(dimensions=dims), SETTINGS)
    assert [(d.kind, d.remote_id) for d in entry.lines[0].dimensions] == [("spend_category", "SC-TRAVEL")]
    gap = resolve(base_doc(category_code="MEALS"), snapshot(dimensions=dims), SETTINGS)
    assert [(i.kind, i.key) for i in gap.items] == [("dimension", "category=MEALS")]
    plain = resolve(base_doc(), snapshot(), SETTINGS)
    assert all(d.kind != "spend_category" for d in plain.lines[0].dimensions)


def test_gaps_name_everything_missing():
    gap = resolve(base_doc(category_code="NEW", tax_code="VAT5", tax_rate=Decimal(5),
                           dimensions=(("cost_center", "CC-9"),)),
                  snapshot(), ConnectionSettings(base_currency="SAR"))
    assert isinstance(gap, MappingGap)
    assert {(i.kind, i.key) for i in gap.items} == {("category", "NEW"), ("tax", "VAT5"),
                                                    ("dimension", "cost_center=CC-9"),
                                                    ("setting", "Employee Claims")}
    assert gap.mapping_version == snapshot().version


def test_merchant_default_category_applies_when_own_category_is_unmapped():
    entry = resolve(base_doc(category_code="UNKNOWN", merchant="CAREEM*RIDE 1234"), snapshot(), SETTINGS)
    assert entry.lines[0].account == "6100"


def test_missing_rate_is_a_currency_gap():
    gap = resolve(base_doc(currency="EUR", amount=Decimal("10.00")), snapshot(), FX_SETTINGS)
    assert [(i.kind, i.key) for i in gap.items] == [("currency", "EUR")]
    target = resolve(base_doc(currency="EUR", amount=Decimal("10.00")),
                     snapshot(currency=CurrencyRule("target")), FX_SETTINGS)
    assert (target.currency, target.exchange_rate) == ("EUR", None)


@pytest.mark.parametrize("direction,bank_debit,signed", [("in", False, Decimal("-50.00")),
                                                          ("out", True, Decimal("50.00"))])
def test_card_funding(direction, bank_debit, signed):
    entry = resolve(FundingDocument("fnd_1", direction, Decimal("50.00"), "SAR", date(2026, 3, 1)),
                    snapshot(), SETTINGS)
    bank, counterpart = entry.lines
    assert entry.kind is EntryKind.LEDGER_BANK_TRANSACTION
    assert (bank.account, bool(bank.debit)) == ("1010", bank_debit)
    assert (counterpart.account, bool(counterpart.debit)) == ("1400", not bank_debit)
    assert entry.amount == signed and entry.bank_account == "1010"


def test_reimbursement_and_statement_line():
    entry = resolve(ReimbursementDocument("rmb_1", Decimal("12.345"), "KWD", date(2026, 3, 1)), snapshot(), SETTINGS)
    assert [(line.account, line.debit, line.credit) for line in entry.lines] == [
        ("1010", Decimal(0), Decimal("12.345")), ("2100", Decimal("12.345"), Decimal(0))]
    line = resolve(StatementLineDocument("ln_1", Decimal("-3.50"), "SAR", date(2026, 3, 1), bank_reference="B1"),
                   snapshot(), SETTINGS)
    assert (line.kind, line.amount, line.bank_account, line.lines) == (
        EntryKind.STATEMENT_TRANSACTION, Decimal("-3.50"), "1010", ())
    assert line.extra == ()
    with_balance = resolve(StatementLineDocument("ln_2", Decimal("-3.50"), "SAR", date(2026, 3, 1),
                                                 balance=Decimal("996.500")), snapshot(), SETTINGS)
    assert dict(with_balance.extra) == {"statement_balance": "996.500"}


def test_hold_rules_need_every_condition():
    snap = snapshot(holds=(HoldRuleData("big", amount_over=Decimal("1000"), currency="SAR"),
                           HoldRuleData("no receipt meals", missing_receipt=True, categories=frozenset({"MEALS"}))))
    assert holds_for(base_doc(amount=Decimal("1000.01")), snap) == ("big",)
    assert holds_for(base_doc(amount=Decimal("-1500")), snap) == ("big",)
    assert holds_for(base_doc(amount=Decimal("1500"), currency="USD"), snap) == ()
    assert holds_for(base_doc(category_code="MEALS", has_receipts=False), snap) == ("no receipt meals",)
    assert holds_for(base_doc(category_code="TRAVEL", has_receipts=False), snap) == ()


def test_missing_receipt_rules_ignore_computed_claims():
    snap = snapshot(holds=(HoldRuleData("no receipt", missing_receipt=True),))
    assert holds_for(base_doc(has_receipts=False), snap) == ("no receipt",)
    for kind in ("mileage", "per_diem", "driver_honorarium"):
        assert holds_for(base_doc(type=kind, has_receipts=False), snap) == ()
