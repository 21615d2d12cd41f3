"""Moon ERP's connection settings (see connectors/vendor_settings.py)."""

from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar

from ..vendor_settings import VendorSettings, setting


@dataclass(frozen=True)
class MoonErpSettings(VendorSettings):
    """Moon ERP: its rate, the company, and how far Moon's computed totals may differ from ours."""

    company_keys: ClassVar[tuple[str, ...]] = ("company_id",)

    # Moon's inferred 60 requests/minute: the stack's 8/s would meet its 429s within seconds.
    rate_limit_per_second: int | None = setting(1, "Requests per second all workers together may send "
                                                   "(Moon: 1).", min_value=0)
    company_id: str = setting("", "The Moon company's id (learned by check).")
    company_currency: str = setting("", "The Moon company's currency (learned by check).")
    amount_tolerance: Decimal = setting(Decimal("0"), "How far Moon's computed total may differ from ours "
                                                      "before the draft is refused.",
                                        max_digits=12, decimal_places=3, min_value=Decimal("0"))
