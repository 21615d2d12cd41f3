"""What the contract suite (tests/contract/) needs from the Business Central package: a started
(HTTPS) sandbox, a Connection set up through the real services, and entries for its chart."""

from datetime import date
from decimal import Decimal

from ..entry import AccountingEntry, EntryKind, EntryLine, LineRole
from ..models import Connection
from . import schema
from .sandbox import API_PREFIX, CLIENT_ID, CLIENT_SECRET, make_server


def start_sandbox():
    return make_server().start()


def connect(server, organization, *, name: str = "Business Central sandbox", **settings) -> Connection:
    from ..base import CatalogKind
    from ..services import connection_catalog_fetch, connection_check, connection_configure, connection_create
    conn = connection_create(
        organization=organization, system="business_central", name=name,
        base_url=f"{server.base_url}{API_PREFIX}".rstrip("/"), auth_method=Connection.AuthMethod.CLIENT_CREDENTIALS,
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
        settings={"authority_host": server.base_url, "ca_bundle": server.app.ca_bundle,
                  "rate_limit_per_second": 50, "read_timeout": 5, **settings})
    connection_check(connection=conn)
    connection_catalog_fetch(connection=conn, kind=CatalogKind.ACCOUNTS)
    return connection_configure(connection=conn)


def _account(server, number: str) -> str:
    return next(a["id"] for a in server.app.sets["accounts"].values() if a["number"] == number)


def sample_entry(server, connection: Connection, reference: str, amount: Decimal = Decimal("115.00")) -> AccountingEntry:
    tax = (amount * Decimal("0.20") / Decimal("1.20")).quantize(Decimal("0.01"))
    return AccountingEntry(
        kind=EntryKind.EXPENSE, reference=reference, date=date(2026, 11, 1), currency="GBP",
        description=f"Taxi to client ({reference})", merchant="Addison Lee",
        lines=(EntryLine(role=LineRole.EXPENSE, account=_account(server, "6100"), debit=amount, tax_rate="STANDARD",
                         tax_amount=tax),
               EntryLine(role=LineRole.PAID_THROUGH, account=connection.employee_claims_account, credit=amount)))


def invalid_entry(server, connection: Connection, reference: str) -> tuple[AccountingEntry, str]:
    """An entry BC rejects (an account that does not exist), and the field its error names."""
    entry = sample_entry(server, connection, reference)
    bad = EntryLine(role=LineRole.EXPENSE, account="00000000-0000-0000-0000-00000000dead", debit=entry.lines[0].debit)
    return AccountingEntry(kind=entry.kind, reference=reference, date=entry.date, currency=entry.currency,
                           description=entry.description, lines=(bad, entry.lines[1])), "accountId"


def reversal_entry(entry: AccountingEntry) -> AccountingEntry:
    return AccountingEntry(
        kind=EntryKind.REVERSAL, reference=entry.reference + "-R", date=entry.date, currency=entry.currency,
        reverses=entry.reference, description=f"Reversal of {entry.reference}",
        lines=tuple(EntryLine(role=line.role, account=line.account, debit=line.credit, credit=line.debit,
                              tax_rate=line.tax_rate, dimensions=line.dimensions)
                    for line in entry.lines))


def held(server, reference: str) -> list[dict]:
    """Live documents BC holds for a reference (unposted journal document, posted entries, invoices)."""
    return server.app.documents(schema.short_reference(reference))


def revoke(server) -> None:
    server.app.revoke_all_credentials()
