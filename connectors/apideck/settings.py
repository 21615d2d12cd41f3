"""Apideck (Workday via Unify) connection settings (see connectors/vendor_settings.py)."""

from dataclasses import dataclass
from typing import ClassVar, Literal

from ..vendor_settings import VendorSettings, setting


@dataclass(frozen=True)
class ApideckUnifySettings(VendorSettings):
    """Apideck Unify: the app, the consumer and what an expense becomes."""

    company_keys: ClassVar[tuple[str, ...]] = ("consumer_id",)

    app_id: str = setting("", "Apideck application id (x-apideck-app-id).")
    consumer_id: str = setting("", "Apideck consumer id (x-apideck-consumer-id).")
    service_id: str = setting("workday", "Apideck downstream service (x-apideck-service-id).")
    company_id: str = setting("", "Downstream company id.")
    document: Literal["journal_entry", "expense"] = setting("journal_entry", "What an expense becomes.")
    status: str = setting("posted", "Status of created documents.")
    default_cost_center: str = setting("", "Cost center worktag for lines that map none.")
    account_set: str = setting("Standard", "The account set ledger accounts belong to.")
    allow_drafts: bool = setting(False, "Send entries Workday would keep as drafts (otherwise they become "
                                        "review items).")
