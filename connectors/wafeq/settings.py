"""Wafeq's connection settings (see connectors/vendor_settings.py)."""

from dataclasses import dataclass
from typing import ClassVar

from ..vendor_settings import VendorSettings, setting


@dataclass(frozen=True)
class WafeqSettings(VendorSettings):
    """Wafeq: nothing to choose; `check()` learns the organisation."""

    company_keys: ClassVar[tuple[str, ...]] = ("wafeq_organization_id",)

    oauth_hosts: ClassVar[dict[str, str]] = {"api.wafeq.com": "https://app.wafeq.com"}
    oauth_scope: str = setting("basic chart_of_accounts.read chart_of_accounts.write bank_accounts.read "
                               "bank_accounts.write expenses.read expenses.write tax_rates.read contacts.read "
                               "journals.write", "OAuth scopes to ask for.")

    base_currency: str = setting("", "The Wafeq organisation's base currency (learned by check).")
    wafeq_organization_id: str = setting("", "The Wafeq organisation's id (learned by check).")
