"""Minor units and rounding. py-moneyed holds the ISO-4217 registry (KWD 3 decimals, JPY 0)."""

from decimal import ROUND_HALF_UP, Decimal

import moneyed


def minor_exponent(currency: str) -> int:
    """Decimals of the currency's minor unit: SAR 2, KWD 3, JPY 0."""
    try:
        sub_unit = moneyed.get_currency(currency.upper()).sub_unit
    except moneyed.CurrencyDoesNotExist:
        raise ValueError(f"unknown currency {currency!r}") from None
    return len(str(sub_unit)) - 1


def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_exponent(currency))


def round_money(amount: Decimal, currency: str) -> Decimal:
    """Half-up to the currency's minor unit. Money is Decimal end to end, never float."""
    if not isinstance(amount, Decimal):
        raise TypeError(f"money must be Decimal, got {type(amount).__name__}")
    return amount.quantize(quantum(currency), rounding=ROUND_HALF_UP)


def fits_minor_unit(amount: Decimal, currency: str) -> bool:
    return amount == amount.quantize(quantum(currency))


def convert_balanced(amounts: list[Decimal], rate: Decimal, currency: str, *,
                     keep: frozenset[int] = frozenset()) -> list[Decimal]:
    """Signed amounts that net to zero, each × `rate` rounded to `currency`, still netting to zero.

    Rounding each line can leave a minor unit over; the largest line whose index is not in
    `keep` absorbs it. Callers keep the paid-through (or bank) side, so the document's total in
    the converted currency is exactly its own amount × rate, rounded once."""
    out = [round_money(amount * rate, currency) for amount in amounts]
    drift = sum(out, Decimal(0))
    if drift:
        candidates = [i for i in range(len(out)) if i not in keep] or list(range(len(out)))
        largest = max(candidates, key=lambda i: abs(out[i]))
        out[largest] -= drift
    return out
