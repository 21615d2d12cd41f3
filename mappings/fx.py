"""Realised exchange gain/loss (pure). A claim in a foreign currency was booked on Employee
Claims at its base-currency value on the day (the rate the organisation's policy chose); the
reimbursement pays it in the base currency. What the bank paid minus what the claims were booked
at is realised: it goes to the currency policy's gain/loss account with the reimbursement, so
Employee Claims clears exactly and the entry still balances to the minor unit."""

from decimal import Decimal

from connectors.entry import AccountingEntry, LineRole
from connectors.money import round_money

ZERO = Decimal("0")


def booked_base_value(entry: AccountingEntry, base_currency: str) -> Decimal | None:
    """The signed base-currency amount a claim's entry put on its paid-through account (+ owed
    to the employee), or None where the ledger converts it at its own rate (unknown to us)."""
    owed = sum((line.credit - line.debit for line in entry.lines if line.role is LineRole.PAID_THROUGH), ZERO)
    if entry.currency == base_currency:
        return owed
    if entry.exchange_rate is None:
        return None
    # A vendor given the document currency and a rate converts the line as a whole, half-up.
    return round_money(owed * entry.exchange_rate, base_currency)


def realised_difference(*, paid: Decimal, claims: list[AccountingEntry], base_currency: str) -> Decimal | None:
    """paid − Σ booked base values (+: a loss, the bank paid more than was owed); None when a
    claim's booked value is unknown. The caller asks only where a claim was spent in a foreign
    currency (its entry may be in the base currency already, converted on the day)."""
    if not claims:
        return None
    total = ZERO
    for claim in claims:
        value = booked_base_value(claim, base_currency)
        if value is None:
            return None
        total += value
    return round_money(paid, base_currency) - total
