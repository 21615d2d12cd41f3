"""Business Central's connection settings (see connectors/vendor_settings.py)."""

from dataclasses import dataclass
from typing import ClassVar, Literal

from ..vendor_settings import VendorSettings, setting


@dataclass(frozen=True)
class BusinessCentralSettings(VendorSettings):
    """Dynamics 365 Business Central: what an expense becomes, the journal batch, Entra sign-in."""

    company_keys: ClassVar[tuple[str, ...]] = ("tenant", "company_id")

    export_mode: Literal["journal", "purchase_invoice"] = setting(
        "journal", "What an expense becomes: general journal lines, or a purchase invoice (card spend "
                   "stays a journal).")
    post: bool = setting(False, "Post each document in BC after creating it (otherwise it waits for the "
                                "accountant).")
    journal_code: str = setting("EXPENSICO", "The general journal batch our lines go into (at most 10 "
                                             "characters).")
    default_vendor_id: str = setting("", "BC vendor id for purchase invoices whose expense names no merchant "
                                         "contact.")
    window_limit: int = setting(6000, "Requests per 5-minute window all workers together may send.", min_value=1)
    authority_host: str = setting("https://login.microsoftonline.com", "Entra ID authority host.")
    tenant: str = setting("", "Entra tenant id (default: read from the base URL).")
    ca_bundle: str = setting("", "A CA bundle file to trust (a sandbox's self-signed certificate).")
    company_id: str = setting("", "The BC company (its id); learned by check from company_name or the first.")
    company_name: str = setting("", "The BC company to use, by name; learned by check.")
    journal_id: str = setting("", "The journal batch's id (learned by check).")
    journal_for: str = setting("", "The journal code journal_id was found for (learned by check).")
    lcy: str = setting("", "The company's local currency (learned by check).")
