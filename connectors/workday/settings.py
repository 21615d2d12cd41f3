"""Workday (SOAP) connection settings (see connectors/vendor_settings.py)."""

from dataclasses import dataclass
from typing import ClassVar

from ..vendor_settings import VendorSettings, setting


@dataclass(frozen=True)
class WorkdaySettings(VendorSettings):
    """Workday: the company and how journals are submitted."""

    company_keys: ClassVar[tuple[str, ...]] = ("tenant", "company")

    company: str = setting("", "Company_Reference_ID of the company journals are booked in (required).")
    account_set: str = setting("Standard", "The account set ledger accounts belong to.")
    ledger_type: str = setting("Actuals", "Ledger type of submitted journals.")
    journal_source: str = setting("Integration", "Journal source of submitted journals.")
    submit: bool = setting(True, "Submit journals (otherwise they stay drafts).")
    auto_complete: bool = setting(True, "Complete the business process on submission.")
    default_cost_center: str = setting("", "Cost center worktag for lines that map none.")
    version: str = setting("v30.0", "Web service version.")
    tenant: str = setting("", "Tenant name (default: read from the base URL).")
    company_currency: str = setting("", "The currency the company books in; foreign claims are converted to it "
                                        "(default: the organisation's base currency).")
