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
