"""Realised FX: a reimbursement paid in the base currency settles foreign claims booked at their
base value on the day; the difference goes to the currency policy's gain/loss account, and the
entry balances to the minor unit. Properties over 2- and 3-decimal base currencies."""

from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.entry import AccountingEntry, LineRole
from connectors.money import quantum, round_money
from mappings.documents import ExpenseDocument, ReimbursementDocument
from mappings.resolve import MappingGap, resolve
from mappings.settings import ConnectionSettings
from mappings.snapshot import CategoryRule, CurrencyRule, MappingSnapshot

FOREIGN = {"SAR": ["USD", "KWD", "EUR", "JPY"], "KWD": ["USD", "SAR", "BHD", "EUR"]}   # SAR 2, KWD 3 decimals


def snapshot(base: str, fx_account: str = "7900") -> MappingSnapshot:
    return MappingSnapshot(version="v~1", base_currency=base, categories={("TRAVEL", "", ""): CategoryRule("6100")},
                           currency=CurrencyRule("expensico", fx_account))


def conn_settings(base: str, converted: bool) -> ConnectionSettings:
    return ConnectionSettings(employee_claims_account="2100", employees_balance_account="1400",
                              funding_bank_account="1010", base_currency=base, base_currency_amounts=converted)


def claim(i, amount, currency, rate, base) -> ExpenseDocument:
    return ExpenseDocument(source_id=f"exp_{i}", version=1, type="expense", date=date(2026, 11, 3), amount=amount,
                           currency=currency, category_code="TRAVEL", funding_source="reimbursable",
                           exchange_rate=None if currency == base else rate, report_currency=base)


@st.composite
def settlements(draw):
    base = draw(st.sampled_from(["SAR", "KWD"]))
    claims = []
    for i in range(draw(st.integers(1, 4))):
        currency = draw(st.sampled_from([base, *FOREIGN[base]]))
        amount = draw(st.integers(1, 10**6)) * quantum(currency)
        rate = Decimal(draw(st.integers(1, 5 * 10**6))) / Decimal(10**6)
        claims.append(claim(i, amount, currency, rate, base))
    return base, claims, draw(st.booleans()), draw(st.integers(-500, 500)) * quantum(base)


def booked_value(entry: AccountingEntry, base: str) -> Decimal:
    owed = sum(li.credit - li.debit for li in entry.lines if li.role is LineRole.PAID_THROUGH)
    return owed if entry.currency == base else round_money(owed * entry.exchange_rate, base)


@settings(max_examples=300, deadline=None)
@given(settlements())
def test_the_difference_is_booked_on_the_gain_loss_account_and_the_entry_balances(case):
    base, claims, converted, drift = case
    snap, cs = snapshot(base), conn_settings(base, converted)
    booked = sum(booked_value(resolve(c, snap, cs), base) for c in claims)
    paid = booked + drift
    if paid <= 0 or booked <= 0:
        return                        # nothing paid, or claims too small to be worth a minor unit
    doc = ReimbursementDocument(source_id="rmb_1", amount=paid, currency=base, date=date(2026, 11, 20),
                                claims=tuple(claims))
    entry = resolve(doc, snap, cs)
    assert isinstance(entry, AccountingEntry)
    foreign = any(c.currency != base for c in claims)
    assert entry.total_debit == entry.total_credit                     # balanced, exact to the minor unit
    assert entry.total_debit == (max(paid, booked) if foreign else paid)
    by_role = {li.role: li for li in entry.lines}
    assert by_role[LineRole.BANK].credit == paid
    # Foreign claims: Employee Claims clears exactly what they were booked at. Base-currency
    # claims have no rate difference to realise: the payment is what it is.
    assert by_role[LineRole.COUNTERPART].debit == (booked if foreign else paid)
    if drift and foreign:
        fx = by_role[LineRole.FX]
        assert fx.account == "7900"
        assert (fx.debit - fx.credit) == drift                         # + a loss, − a gain
    else:
        assert LineRole.FX not in by_role
    for line in entry.lines:
        assert line.debit == round_money(line.debit, base) and line.credit == round_money(line.credit, base)


def test_a_kwd_claim_paid_in_sar_books_the_gain():
    """KWD 100.000 at 12.2500 was booked at SAR 1225.00; the bank paid SAR 1220.50: a gain of 4.50."""
    snap, cs = snapshot("SAR"), conn_settings("SAR", False)
    doc = ReimbursementDocument(source_id="rmb_1", amount=Decimal("1220.50"), currency="SAR", date=date(2026, 11, 20),
                                claims=(claim(1, Decimal("100.000"), "KWD", Decimal("12.25"), "SAR"),))
    entry = resolve(doc, snap, cs)
    assert [(li.role, li.account, li.debit, li.credit) for li in entry.lines] == [
        (LineRole.BANK, "1010", Decimal("0"), Decimal("1220.50")),
        (LineRole.COUNTERPART, "2100", Decimal("1225.00"), Decimal("0")),
        (LineRole.FX, "7900", Decimal("0"), Decimal("4.50"))]


def test_without_a_gain_loss_account_the_difference_is_a_mapping_gap_naming_it():
    snap, cs = snapshot("SAR", fx_account=""), conn_settings("SAR", False)
    doc = ReimbursementDocument(source_id="rmb_1", amount=Decimal("1220.50"), currency="SAR", date=date(2026, 11, 20),
                                claims=(claim(1, Decimal("100.000"), "KWD", Decimal("12.25"), "SAR"),))
    gap = resolve(doc, snap, cs)
    assert isinstance(gap, MappingGap) and "gain/loss account" in gap.items[0].detail


def test_base_currency_claims_paid_exactly_have_no_fx_line():
    snap, cs = snapshot("SAR"), conn_settings("SAR", False)
    doc = ReimbursementDocument(source_id="rmb_1", amount=Decimal("80.00"), currency="SAR", date=date(2026, 11, 20),
                                claims=(claim(1, Decimal("80.00"), "SAR", None, "SAR"),))
    assert [li.role for li in resolve(doc, snap, cs).lines] == [LineRole.BANK, LineRole.COUNTERPART]
