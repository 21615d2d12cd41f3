"""What the contract suite (tests/contract/) needs from the Workday SOAP package."""

from datetime import date
from decimal import Decimal

from ..entry import AccountingEntry, Dimension, EntryKind, EntryLine, LineRole
from ..models import Connection
from .sandbox import WorkdaySandbox, make_server

USERNAME = "isu_expensico"
PASSWORD = "Sandbox-Workday-Pass-1"
COMPANY = "C100"
# The contract suite's "answer outside the contract": a 200 that is no SOAP envelope.
MALFORMED = {"body": b"<html><body>Workday is down for maintenance</body></html>"}


def start_sandbox():
    return make_server().start()


def connect(server, organization, *, name: str = "Workday sandbox") -> Connection:
    from ..base import CatalogKind
    from ..services import connection_catalog_fetch, connection_check, connection_configure, connection_create
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
    return (AccountingEntry(kind=entry.kind, reference=reference, date=entry.date, currency=entry.currency,
                            description=entry.description, lines=(bad, entry.lines[1])),
            "Journal_Entry_Line_Replacement_Data.Ledger_Account_Reference")


def reversal_entry(entry: AccountingEntry) -> AccountingEntry:
    return AccountingEntry(
        kind=EntryKind.REVERSAL, reference=entry.reference + "-R", date=entry.date, currency=entry.currency,
        reverses=entry.reference, description=f"Reversal of {entry.reference}",
        lines=tuple(EntryLine(role=line.role, account=line.account, debit=line.credit, credit=line.debit,
                              dimensions=line.dimensions) for line in entry.lines))


def held(server, reference: str) -> list[dict]:
    """Journals the sandbox holds under our reference (canceled ones excluded)."""
    return [j for j in server.app.documents() if j["journal_id"] == reference and j["status"] != "Canceled"]


def revoke(server) -> None:
    server.app.revoke_all_credentials()


__all__ = ["WorkdaySandbox", "start_sandbox", "connect", "sample_entry", "invalid_entry", "reversal_entry", "held",
           "revoke"]
