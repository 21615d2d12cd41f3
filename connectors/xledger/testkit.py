"""What the contract suite (tests/contract/) needs from the Xledger package: a started GraphQL
sandbox, a Connection set up through the real services, and vouchers for its seeded chart."""

from datetime import date
from decimal import Decimal

from ..entry import AccountingEntry, EntryKind, EntryLine, LineRole
from ..models import Connection
from .sandbox import API_TOKEN, make_server


def start_sandbox():
    return make_server().start()


def connect(server, organization, *, name: str = "Xledger sandbox", **settings) -> Connection:
    from ..base import CatalogKind
    from ..services import connection_catalog_fetch, connection_check, connection_configure, connection_create
    conn = connection_create(organization=organization, system="xledger", name=name, base_url=server.base_url,
                             auth_method=Connection.AuthMethod.TOKEN, api_key=API_TOKEN,
                             settings={"rate_limit_per_second": 50, "read_timeout": 5, **settings})
    connection_check(connection=conn)
    connection_catalog_fetch(connection=conn, kind=CatalogKind.ACCOUNTS)
    return connection_configure(connection=conn)


def _account(server, code: str) -> str:
    return next(a["dbId"] for a in server.app.tables["accounts"] if a["code"] == code)


def sample_entry(server, connection: Connection, reference: str, amount: Decimal = Decimal("1250.00")) -> AccountingEntry:
    tax = (amount * Decimal("0.25") / Decimal("1.25")).quantize(Decimal("0.01"))
    return AccountingEntry(
        kind=EntryKind.EXPENSE, reference=reference, date=date(2026, 11, 1), currency="NOK",
        description=f"Taxi Gardermoen ({reference})", merchant="Oslo Taxi",
        lines=(EntryLine(role=LineRole.EXPENSE, account=_account(server, "7140"), debit=amount, tax_rate="1",
                         tax_amount=tax),
               EntryLine(role=LineRole.PAID_THROUGH, account=connection.employee_claims_account, credit=amount)))


def invalid_entry(server, connection: Connection, reference: str) -> tuple[AccountingEntry, str]:
    """A voucher Xledger rejects (an account that does not exist), and the field its error names."""
    entry = sample_entry(server, connection, reference)
    bad = EntryLine(role=LineRole.EXPENSE, account="999999999", debit=entry.lines[0].debit)
    return AccountingEntry(kind=entry.kind, reference=reference, date=entry.date, currency=entry.currency,
                           description=entry.description, lines=(bad, entry.lines[1])), "account"


def reversal_entry(entry: AccountingEntry) -> AccountingEntry:
    return AccountingEntry(
        kind=EntryKind.REVERSAL, reference=entry.reference + "-R", date=entry.date, currency=entry.currency,
        reverses=entry.reference, description=f"Reversal of {entry.reference}",
        lines=tuple(EntryLine(role=line.role, account=line.account, debit=line.credit, credit=line.debit,
                              tax_rate=line.tax_rate, tax_amount=line.tax_amount, dimensions=line.dimensions)
                    for line in entry.lines))


def held(server, reference: str) -> list[dict]:
    """Vouchers Xledger holds for a reference (one per addGLImportItems call that carried it)."""
    return server.app.documents(reference)


def booked(server, reference: str) -> list[dict]:
    """Journal transactions the import job posted for a reference (failed vouchers post none)."""
    return server.app.booked(reference)


def fail_next_imports(server, *messages: str) -> None:
    """Xledger accepts the next vouchers, then its import job refuses them (one message each)."""
    server.app.fail_next_imports(*messages)


def revoke(server) -> None:
    server.app.revoke_all_credentials()
