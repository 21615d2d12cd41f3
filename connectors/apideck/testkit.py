"""What the contract suite (tests/contract/) needs from the Apideck (Workday) package."""

from datetime import date
from decimal import Decimal

from ..entry import AccountingEntry, Dimension, EntryKind, EntryLine, LineRole
from ..models import Connection
from .sandbox import API_KEY, APP_ID, CONSUMER_ID, ApideckSandbox, make_server
from .schema import encode_account_id

WORKTAGS = (Dimension(kind="worktag:Cost_Center_Reference_ID", remote_id="CC100", label="Finance"),
            Dimension(kind="worktag:Spend_Category_ID", remote_id="SC_Travel", label="Travel"))


def start_sandbox():
    return make_server().start()


def connect(server, organization, *, name: str = "Workday via Apideck sandbox", **settings) -> Connection:
    from ..base import CatalogKind
    from ..services import connection_catalog_fetch, connection_check, connection_configure, connection_create
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
    return (AccountingEntry(kind=entry.kind, reference=reference, date=entry.date, currency=entry.currency,
                            description=entry.description, lines=(bad, entry.lines[1])),
            "line_items.0.ledger_account.id")


def reversal_entry(entry: AccountingEntry) -> AccountingEntry:
    return AccountingEntry(
        kind=EntryKind.REVERSAL, reference=entry.reference + "-R", date=entry.date, currency=entry.currency,
        reverses=entry.reference, description=f"Reversal of {entry.reference}",
        lines=tuple(EntryLine(role=line.role, account=line.account, debit=line.credit, credit=line.debit,
                              dimensions=line.dimensions) for line in entry.lines))


def held(server, reference: str) -> list[dict]:
    """Live journal entries and expenses the sandbox holds under our reference."""
    docs = server.app.documents("journal_entries") + server.app.documents("expenses")
    return [d for d in docs if d.get("number") == reference and d.get("status") not in ("voided", "deleted")]


def revoke(server) -> None:
    server.app.revoke_all_credentials()


__all__ = ["ApideckSandbox", "start_sandbox", "connect", "sample_entry", "invalid_entry", "reversal_entry", "held",
           "revoke"]
