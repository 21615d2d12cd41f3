"""What the contract suite (tests/contract/) needs from the Workday SOAP package."""

from datetime import date
from decimal import Decimal

from ...entry import AccountingEntry, Dimension, EntryKind, EntryLine, LineRole
from ...models import Connection
from ...sandboxing.entries import sample_reversal, with_bad_line
from ...sandboxing.server import control_settings
from .server import WorkdaySandbox, make_server

USERNAME = "isu_expensico"
PASSWORD = "Sandbox-Workday-Pass-1"
COMPANY = "C100"
# The contract suite's "answer outside the contract": a 200 that is no SOAP envelope.
MALFORMED = {"body": b"<html><body>Workday is down for maintenance</body></html>"}


def start_sandbox():
    return make_server().start()


def connect(server, organization, *, name: str = "Workday sandbox") -> Connection:
    from ...base import CatalogKind
    from ...services import (
        connection_catalog_fetch,
        connection_check,
        connection_configure,
        connection_create,
    )
    conn = connection_create(organization=organization, system="workday", name=name,
                             base_url=f"{server.base_url}{server.app.endpoint_path}",
                             auth_method=Connection.AuthMethod.BASIC, client_id=USERNAME, api_key=PASSWORD,
                             settings={"company": COMPANY, "account_set": "Standard", "rate_limit_per_second": 50,
                                       "read_timeout": 5})
    connection_check(connection=conn)
    connection_catalog_fetch(connection=conn, kind=CatalogKind.ACCOUNTS)
    return connection_configure(connection=conn)


WORKTAGS = (Dimension(kind="worktag:Cost_Center_Reference_ID", remote_id="CC100", label="Finance"),
            Dimension(kind="worktag:Spend_Category_ID", remote_id="SC_Travel", label="Travel"))


def sample_entry(server, connection: Connection, reference: str, amount: Decimal = Decimal("115.00")) -> AccountingEntry:
    return AccountingEntry(
        kind=EntryKind.EXPENSE, reference=reference, date=date(2026, 11, 1), currency="SAR",
        description=f"Taxi to client ({reference})", merchant="Careem",
        lines=(EntryLine(role=LineRole.EXPENSE, account="Standard/6100", debit=amount, dimensions=WORKTAGS),
               EntryLine(role=LineRole.PAID_THROUGH, account=connection.employee_claims_account, credit=amount)))


def invalid_entry(server, connection: Connection, reference: str) -> tuple[AccountingEntry, str]:
    """An entry Workday rejects (unknown ledger account), and the field its fault names."""
    entry = sample_entry(server, connection, reference)
    bad = EntryLine(role=LineRole.EXPENSE, account="Standard/9999", debit=entry.lines[0].debit, dimensions=WORKTAGS)
    return with_bad_line(entry, reference, bad), "Journal_Entry_Line_Replacement_Data.Ledger_Account_Reference"


def reversal_entry(entry: AccountingEntry) -> AccountingEntry:
    return sample_reversal(entry, keep=("dimensions",))


def held(server, reference: str) -> list[dict]:
    """Journals the sandbox holds under our reference (canceled ones excluded); for `<reference>-R`,
    also the journal Workday made by reversing `<reference>` (it carries no id of ours)."""
    journals = server.app.journals
    original = reference.removesuffix("-R") if reference.endswith("-R") else None
    return [j for j in server.app.documents() if j["status"] != "Canceled" and (
        j["journal_id"] == reference
        or (original and j.get("reverses") and journals[j["reverses"]]["journal_id"] == original))]


def revoke(server) -> None:
    server.app.revoke_all_credentials()


# Close-work hooks (issue 17): change the tenant's books behind our back. Journals are made and
# canceled over SOAP, as an integration would; a posted journal can be neither deleted nor edited
# by any web service, so those two go to the sandbox's books, as a person in the tenant would.
CASH = "Standard/1000"


def _client(connection: Connection):
    from ..client import WorkdayClient
    return WorkdayClient(connection)


def _submit(connection: Connection, entry: AccountingEntry, reference: str) -> str:
    """Submits `entry` as a journal without an Accounting_Journal_ID (so Add_Only cannot refuse
    it); `reference` becomes its External_Reference_ID, if any."""
    from .. import schema
    from ..connector import _settings
    request = schema.journal_request(entry, _settings(connection))
    data = request["Accounting_Journal_Data"]
    del data["Accounting_Journal_ID"]
    data["External_Reference_ID"] = reference or None
    for line in data["Journal_Entry_Line_Replacement_Data"]:
        line["External_Reference_ID"] = None
    resp = _client(connection).call("Submit_Accounting_Journal", request)
    return next(i._value_1 for i in resp.Accounting_Journal_Reference.ID if i.type == "WID")


def tamper_delete(server, connection: Connection, external_id: str) -> None:
    """A journal not yet posted is canceled over SOAP; a posted one is deleted in the tenant."""
    from .. import schema
    if server.app.journals[external_id]["status"] == "Posted":
        server.app.remove_journal(external_id)
    else:
        _client(connection).call("Cancel_Accounting_Journal", schema.journal_action(external_id))


def tamper_edit_amount(server, connection: Connection, external_id: str, new_amount: Decimal) -> None:
    server.app.edit_journal_amount(external_id, new_amount)


def tamper_duplicate(server, connection: Connection, external_id: str) -> str:
    """The same journal submitted again under a new id, our reference as its External_Reference_ID."""
    journal = server.app.journals[external_id]
    lines = tuple(EntryLine(role=LineRole.EXPENSE if Decimal(line["debit"]) else LineRole.PAID_THROUGH,
                            account=f"{line['account_set']}/{line['account']}", debit=Decimal(line["debit"]),
                            credit=Decimal(line["credit"]), description=line["memo"],
                            dimensions=tuple(Dimension(kind=f"worktag:{t}", remote_id=v)
                                             for t, v in line["worktags"].items()))
                  for line in journal["lines"])
    copy = AccountingEntry(kind=EntryKind.EXPENSE, reference=journal["journal_id"] or journal["external_reference"],
                           date=date.fromisoformat(journal["accounting_date"]), currency=journal["currency"],
                           description=journal["memo"], lines=lines)
    return _submit(connection, copy, copy.reference)


def tamper_manual_post(server, connection: Connection, account: str, amount: Decimal, on: date,
                       currency: str) -> str:
    """A journal typed by a person: `account` debited, Cash (1000) credited, no reference of ours."""
    tags = WORKTAGS[:1]
    entry = AccountingEntry(kind=EntryKind.EXPENSE, reference="manual", date=on, currency=currency,
                            description="Posted by hand",
                            lines=(EntryLine(role=LineRole.EXPENSE, account=account, debit=amount, dimensions=tags),
                                   EntryLine(role=LineRole.PAID_THROUGH, account=CASH, credit=amount,
                                             dimensions=tags)))
    return _submit(connection, entry, "")


def set_page_size(server, size: int) -> None:
    server.app.max_page_size = size


def lock_period(server, connection: Connection, through: date) -> None:
    control_settings(server, {"closed_through": through.isoformat()})


__all__ = ["WorkdaySandbox", "start_sandbox", "connect", "sample_entry", "invalid_entry", "reversal_entry", "held",
           "revoke", "tamper_delete", "tamper_edit_amount", "tamper_duplicate", "tamper_manual_post", "lock_period",
           "set_page_size"]


def mandatory_dimension(server, connection, account: str) -> str:
    """The tenant's own rule (fixtures/seed.json `required_worktags`): a cost-centre worktag on expense accounts."""
    return "Cost_Center_Reference_ID"


def deactivate_account(server, connection, account: str) -> None:
    """Retired in Workday (`Ledger_Account_Data/Retired`); `account` is `<set>/<identifier>`."""
    account_set, _, identifier = account.partition("/")
    for row_set in server.app.account_sets.values():
        if identifier in row_set["accounts"] and (not account_set or row_set is server.app.account_sets.get(account_set,
                                                                                                            row_set)):
            row_set["accounts"][identifier]["retired"] = True


def deactivate_dimension(server, connection, remote_id: str) -> None:
    for pool in ("cost_centers", "regions", "projects"):
        for row in server.app.seed[pool]:
            if row["id"] == remote_id:
                row["inactive"] = True
