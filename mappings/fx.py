"""Realised exchange gain/loss (pure). A claim in a foreign currency was booked on Employee
Claims at its base-currency value on the day (the rate the organisation's policy chose); the
reimbursement pays it in the base currency. What the bank paid minus what the claims were booked
at is realised: it goes to the currency policy's gain/loss account with the reimbursement, so
Employee Claims clears exactly and the entry still balances to the minor unit.

Card spend has no realised difference to book, because the Expensico contract carries no settled
amount for it (../shared/expensico-api.md): a card expense (§1.1, `funding_source: card`) has only
`amount` and `currency` (what was spent) and `exchange_rate` (the rate Expensico applied to the
report currency); there is no field for what the card was charged in the funding currency. Card
money moves only through `card.funded` / `card.unloaded` (§1.3: `{card, employee, amount,
currency, date, bank_reference}`), which top up or drain the card's balance as a whole and name no
expense. So no event says "this spend settled at X", and any gap between the fundings and the
spend booked at Expensico's rates stays on Employees Balance, for the accountant to clear. Only a
reimbursement (§1.4) names what it settles (`report_ids`) and what was paid (`amount` in the base
currency): that is the one settlement booked here (property-tested in tests/mappings/test_realised_fx.py)."""

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
