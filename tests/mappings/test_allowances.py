"""Per diem and mileage at the organisation's own rates: pure computation from `details`."""

from datetime import date
from decimal import Decimal

from mappings.allowances import Rate, allowance_check, rate_for

RATES = [Rate("mileage", "SAR", Decimal("0.75"), date(2026, 1, 1)),
         Rate("mileage", "SAR", Decimal("0.80"), date(2026, 7, 1)),
         Rate("per_diem", "SAR", Decimal("300"), date(2026, 1, 1)),
         Rate("per_diem", "SAR", Decimal("450"), date(2026, 1, 1), destination="Dubai")]


def test_mileage_uses_the_rate_in_force_on_the_day():
    before = allowance_check(kind="mileage", details={"distance_km": 240, "rate_per_km": "1.00"},
                             amount=Decimal("240.00"), currency="SAR", on=date(2026, 6, 30), rates=RATES)
    after = allowance_check(kind="mileage", details={"distance_km": 240}, amount=Decimal("192.00"), currency="SAR",
                            on=date(2026, 7, 1), rates=RATES)
    assert (before.expected, before.difference) == (Decimal("180.00"), Decimal("60.00"))
    assert before.explanation("SAR") == ("Mileage 240 km at the organisation's 0.75 SAR/km is 180.00 SAR; Expensico "
                                         "states 240.00 SAR (at 1 SAR/km), 60.00 SAR more")
    assert after.difference == 0


def test_per_diem_prefers_the_destination_rate():
    dubai = allowance_check(kind="per_diem", details={"days": 3, "daily_rate": 400, "destination": "dubai"},
                            amount=Decimal("1200"), currency="SAR", on=date(2026, 3, 1), rates=RATES)
    jeddah = allowance_check(kind="per_diem", details={"days": 2, "destination": "Jeddah"}, amount=Decimal("600"),
                             currency="SAR", on=date(2026, 3, 1), rates=RATES)
    assert (dubai.expected, dubai.difference) == (Decimal("1350.00"), Decimal("-150"))
    assert "for Dubai" in dubai.explanation("SAR") and "150.00 SAR less" in dubai.explanation("SAR")
    assert jeddah.difference == 0 and jeddah.rate.destination == ""


def test_nothing_to_check_without_a_rate_a_quantity_or_the_right_type():
    assert allowance_check(kind="expense", details={}, amount=Decimal(1), currency="SAR", on=date(2026, 3, 1),
                           rates=RATES) is None
    assert allowance_check(kind="mileage", details={"distance_km": "lots"}, amount=Decimal(1), currency="SAR",
                           on=date(2026, 3, 1), rates=RATES) is None
    assert allowance_check(kind="mileage", details={"distance_km": 10}, amount=Decimal(1), currency="AED",
                           on=date(2026, 3, 1), rates=RATES) is None
    assert rate_for(RATES, "mileage", "SAR", date(2025, 12, 31)) is None
