"""Per-diem and mileage amounts at the organisation's own rates, pure: the expense's `details`
(Expensico: mileage {distance_km, rate_per_km}; per_diem {days, daily_rate, destination}) times
the rate in force on the expense's date, compared with the amount Expensico states.

Expensico's amount is what the employee was paid, so it is still what gets booked; a difference
is flagged for a person (exports.anomalies, detector `allowance_rate`), its explanation in words kept
with their code (expensico_sync/core/texts.py), read in the reader's language."""

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.translation import gettext_noop

from expensico_sync.core.texts import Said, register, said

KINDS = ("mileage", "per_diem")

TEXTS = register({
    "allowance_mileage": gettext_noop("Mileage %(quantity)s km at the organisation's %(rate)s %(currency)s/km is "
                                      "%(expected)s %(currency)s"),
    "allowance_mileage_for": gettext_noop("Mileage %(quantity)s km at the organisation's %(rate)s %(currency)s/km "
                                          "for %(destination)s is %(expected)s %(currency)s"),
    "allowance_per_diem": gettext_noop("Per diem %(quantity)s day(s) at the organisation's %(rate)s %(currency)s a "
                                       "day is %(expected)s %(currency)s"),
    "allowance_per_diem_for": gettext_noop("Per diem %(quantity)s day(s) at the organisation's %(rate)s "
                                           "%(currency)s a day for %(destination)s is %(expected)s %(currency)s"),
    "allowance_their_km": gettext_noop("%(rate)s %(currency)s/km"),
    "allowance_their_day": gettext_noop("%(rate)s %(currency)s a day"),
    "allowance_more": gettext_noop("%(ours)s; Expensico states %(stated)s %(currency)s, %(difference)s %(currency)s "
                                   "more"),
    "allowance_more_at": gettext_noop("%(ours)s; Expensico states %(stated)s %(currency)s (at %(theirs)s), "
                                      "%(difference)s %(currency)s more"),
    "allowance_less": gettext_noop("%(ours)s; Expensico states %(stated)s %(currency)s, %(difference)s %(currency)s "
                                   "less"),
    "allowance_less_at": gettext_noop("%(ours)s; Expensico states %(stated)s %(currency)s (at %(theirs)s), "
                                      "%(difference)s %(currency)s less"),
})


@dataclass(frozen=True)
class Rate:
    kind: str                  # mileage (per km) | per_diem (per day)
    currency: str
    rate: Decimal
    effective_from: date
    destination: str = ""      # per diem only; blank: any destination without its own rate


@dataclass(frozen=True)
class Check:
    expected: Decimal
    stated: Decimal
    quantity: Decimal
    rate: Rate
    their_rate: Decimal | None

    @property
    def difference(self) -> Decimal:
        return self.stated - self.expected

    def explanation(self, currency: str) -> Said:
        kind = "mileage" if self.rate.kind == "mileage" else "per_diem"
        ours = said(f"allowance_{kind}_for" if self.rate.destination else f"allowance_{kind}",
                    quantity=_plain(self.quantity), rate=_plain(self.rate.rate), currency=currency,
                    destination=self.rate.destination, expected=f"{self.expected:,.2f}")
        more = "more" if self.difference > 0 else "less"
        figures = {"ours": ours, "stated": f"{self.stated:,.2f}", "currency": currency,
                   "difference": f"{abs(self.difference):,.2f}"}
        if self.their_rate is None:
            return said(f"allowance_{more}", **figures)
        theirs = said("allowance_their_km" if kind == "mileage" else "allowance_their_day",
                      rate=_plain(self.their_rate), currency=currency)
        return said(f"allowance_{more}_at", theirs=theirs, **figures)


def _plain(value: Decimal) -> str:
    return f"{value.normalize():,f}"


def _number(details: dict, key: str) -> Decimal | None:
    try:
        value = Decimal(str(details[key]))
    except (KeyError, InvalidOperation, TypeError):
        return None
    return value if value.is_finite() else None


def rate_for(rates: list[Rate], kind: str, currency: str, on: date, destination: str = "") -> Rate | None:
    """The newest rate in force on `on`: one for the destination first, else the general one."""
    candidates = [r for r in rates if r.kind == kind and r.currency == currency and r.effective_from <= on]
    for wanted in ((destination.strip().casefold(),) if destination.strip() else ()) + ("",):
        matching = [r for r in candidates if r.destination.strip().casefold() == wanted]
        if matching:
            return max(matching, key=lambda r: r.effective_from)
    return None


def allowance_check(*, kind: str, details: dict, amount: Decimal, currency: str, on: date,
                    rates: list[Rate]) -> Check | None:
    """None when the expense is not a per diem or mileage, the organisation has no rate for it,
    or `details` lacks the quantity."""
    if kind not in KINDS or not isinstance(details, dict):
        return None
    quantity_key, their_key = ("distance_km", "rate_per_km") if kind == "mileage" else ("days", "daily_rate")
    quantity = _number(details, quantity_key)
    rate = rate_for(rates, kind, currency, on, str(details.get("destination") or "") if kind == "per_diem" else "")
    if quantity is None or rate is None:
        return None
    expected = (quantity * rate.rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return Check(expected, Decimal(amount), quantity, rate, _number(details, their_key))
