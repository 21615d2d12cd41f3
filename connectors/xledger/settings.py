"""Xledger's connection settings (see connectors/vendor_settings.py)."""

from dataclasses import dataclass
from typing import ClassVar, Literal

from ..vendor_settings import VendorSettings, setting


@dataclass(frozen=True)
class XledgerSettings(VendorSettings):
    """Xledger: how references are looked up, employee subledgers, the burst limit."""

    company_keys: ClassVar[tuple[str, ...]] = ("entity_db_id",)

    lookup_by: Literal["", "filter", "window"] = setting(
        "", "How references are looked up: reference filters, or a changed-since window (empty: what check "
            "found).")
    lookup_filters_detected: bool = setting(False, "Whether the schema has reference filters (learned by check).")
    lookup_window_days: int = setting(45, "Days back the changed-since window reaches.", min_value=1)
    burst_limit: int = setting(20, "Requests per 5-second window all workers together may send.", min_value=1)
    employee_subledger: str = setting("", "Employee subledger code for claims when an employee has none of "
                                          "their own.")
    employee_subledgers: dict[str, str] = setting({}, "Employee subledger code by Expensico employee id.")
    base_currency: str = setting("", "The entity's base currency (learned by check).")
    bank_ledger_accounts: dict[str, str] = setting({}, "Each bank account's own ledger account (learned on the "
                                                       "first bank booking).")
    read_back_lookback_days: int = setting(31, "Read-back reads rows changed since the range's start minus this "
                                               "many days (Xledger filters only by modification time).")
    entity_db_id: str = setting("", "The entity's dbId (learned by check).")
