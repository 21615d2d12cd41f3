"""What the contract suite (tests/contract/) needs from the Apideck (Workday) package."""

from datetime import date
from decimal import Decimal

from ...entry import AccountingEntry, Dimension, EntryKind, EntryLine, LineRole
from ...models import Connection
from ...sandboxing.entries import sample_reversal, with_bad_line
from ...sandboxing.server import control_settings
from ..schema import encode_account_id
from .server import API_KEY, APP_ID, CONSUMER_ID, ApideckSandbox, make_server

WORKTAGS = (Dimension(kind="worktag:Cost_Center_Reference_ID", remote_id="CC100", label="Finance"),
            Dimension(kind="worktag:Spend_Category_ID", remote_id="SC_Travel", label="Travel"))


def start_sandbox():
    return make_server().start()


def connect(server, organization, *, name: str = "Workday via Apideck sandbox", **settings) -> Connection:
    from ...base import CatalogKind
    from ...services import (
        connection_catalog_fetch,
        connection_check,
        connection_configure,
        connection_create,
    )
    conn = connection_create(organization=organization, system="apideck", name=name, base_url=server.base_url,
                             api_key=API_KEY,
                             settings={"app_id": APP_ID, "consumer_id": CONSUMER_ID, "service_id": "workday",
                                       "company_id": "C100", "rate_limit_per_second": 50, "read_timeout": 5,
                                       **settings})
    connection_check(connection=conn)
    connection_catalog_fetch(connection=conn, kind=CatalogKind.ACCOUNTS)
    return connection_configure(connection=conn)


def sample_entry(server, connection: Connection, reference: str, amount: Decimal = Decimal("115.00")) -> AccountingEntry:
    return AccountingEntry(
        kind=EntryKind.EXPENSE, reference=reference, date=date(2026, 11, 1), currency="SAR",
        description=f"Taxi to client ({reference})", merchant="Careem",
        lines=(EntryLine(role=LineRole.EXPENSE, account=encode_account_id("6100", "Standard"), debit=amount,
                         dimensions=WORKTAGS),
               EntryLine(role=LineRole.PAID_THROUGH, account=connection.employee_claims_account, credit=amount)))


def invalid_entry(server, connection: Connection, reference: str) -> tuple[AccountingEntry, str]:
    """An entry Workday rejects through Apideck (unknown ledger account) and the field named."""
    entry = sample_entry(server, connection, reference)
    bad = EntryLine(role=LineRole.EXPENSE, account=encode_account_id("9999", "Standard"), debit=entry.lines[0].debit,
                    dimensions=WORKTAGS)
    return with_bad_line(entry, reference, bad), "line_items.0.ledger_account.id"


def reversal_entry(entry: AccountingEntry) -> AccountingEntry:
    return sample_reversal(entry, keep=("dimensions",))


def held(server, reference: str) -> list[dict]:
    """Live journal entries and expenses the sandbox holds under our reference."""
    docs = server.app.documents("journal_entries") + server.app.documents("expenses")
    return [d for d in docs if d.get("number") == reference and d.get("status") not in ("voided", "deleted")]


def revoke(server) -> None:
    server.app.revoke_all_credentials()


# Close-work hooks (issue 17): change the Workday books behind our back through Apideck's own API
# (create, void); Apideck edits drafts only, so a posted entry's amount changes in the sandbox's
# books, as a person in Workday would change it.
JE_PATH = "/accounting/journal-entries"
CASH = encode_account_id("1000", "Standard")


def _api(connection: Connection):
    from ..client import ApideckClient
    return ApideckClient(connection)


def tamper_delete(server, connection: Connection, external_id: str) -> None:
    """DELETE: a draft disappears, a posted entry is voided (Workday reverses it)."""
    _api(connection).call("DELETE", f"{JE_PATH}/{external_id}")


def tamper_edit_amount(server, connection: Connection, external_id: str, new_amount: Decimal) -> None:
    api = _api(connection)
    row = api.call("GET", f"{JE_PATH}/{external_id}").body["data"]
    if row["status"] != "draft":
        server.app.edit_journal_amount(external_id, new_amount)
        return
    items = [{k: v for k, v in item.items() if k != "id"} for item in row["line_items"]]
    for side in ("debit", "credit"):
        next(i for i in items if i.get("type") == side)["total_amount"] = new_amount
    api.call("PATCH", f"{JE_PATH}/{external_id}", json_body={"line_items": items})


def tamper_duplicate(server, connection: Connection, external_id: str) -> str:
    """The same entry (number, lines) posted again; Apideck has no uniqueness on `number`."""
    api = _api(connection)
    row = api.call("GET", f"{JE_PATH}/{external_id}").body["data"]
    copy = {k: row[k] for k in ("number", "title", "memo", "currency", "posted_at", "status", "company_id") if k in row}
    copy["line_items"] = [{k: v for k, v in item.items() if k != "id"} for item in row["line_items"]]
    return api.call("POST", JE_PATH, json_body=copy).body["data"]["id"]


def tamper_manual_post(server, connection: Connection, account: str, amount: Decimal, on: date,
                       currency: str) -> str:
    """A journal entry a person posts: `account` debited, Cash (1000) credited, no number."""
    tags = [{"id": "Cost_Center_Reference_ID", "value": "CC100"}]
    body = {"title": "Posted by hand", "memo": "Posted by hand", "currency": currency, "status": "posted",
            "posted_at": f"{on.isoformat()}T00:00:00.000Z",
            "line_items": [{"type": "debit", "total_amount": amount, "ledger_account": {"id": account},
                            "worktags": tags},
                           {"type": "credit", "total_amount": amount, "ledger_account": {"id": CASH},
                            "worktags": tags}]}
    return _api(connection).call("POST", JE_PATH, json_body=body).body["data"]["id"]


def set_page_size(server, size: int) -> None:
    server.app.max_page_size = size


def lock_period(server, connection: Connection, through: date) -> None:
    control_settings(server, {"closed_through": through.isoformat()})


__all__ = ["ApideckSandbox", "start_sandbox", "connect", "sample_entry", "invalid_entry", "reversal_entry", "held",
           "revoke", "tamper_delete", "tamper_edit_amount", "tamper_duplicate", "tamper_manual_post", "lock_period",
           "set_page_size"]


def mandatory_dimension(server, connection, account: str) -> str:
    """The tenant's own rule (fixtures/seed.json `required_worktags`): a cost-centre worktag on expense accounts."""
    return "Cost_Center_Reference_ID"


def deactivate_account(server, connection, account: str) -> None:
    """Through Apideck's own API: PATCH the ledger account's status."""
    _api(connection).call("PATCH", f"/accounting/ledger-accounts/{account}", json_body={"status": "inactive"})


def deactivate_dimension(server, connection, remote_id: str) -> None:
    """Worktags are read-only through Apideck: inactivated in Workday."""
    for row in server.app.seed["worktags"]:
        if row["id"] == remote_id:
            row["status"] = "inactive"
