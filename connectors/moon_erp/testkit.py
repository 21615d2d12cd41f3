"""What the contract suite (tests/contract/) needs from the Moon ERP package: a started sandbox, a
ready Connection pointing at it, and entries valid (or invalid) for its seeded company."""

from datetime import date
from decimal import Decimal

from ..entry import AccountingEntry, EntryKind, EntryLine, LineRole
from ..models import Connection
from . import schema
from .sandbox import FULL_TOKEN, make_server

MEALS_CATEGORY = 3
VAT_15 = 1


def start_sandbox():
    # The inferred 60/minute throttle is off here: the suite drives 429s with the fault switches.
    return make_server(throttle_per_minute=None).start()


def connect(server, organization, *, name: str = "Moon ERP sandbox", token: str = FULL_TOKEN) -> Connection:
    from ..base import CatalogKind
    from ..services import connection_catalog_fetch, connection_check, connection_configure, connection_create
    conn = connection_create(organization=organization, system="moon_erp", name=name, base_url=server.base_url,
                             auth_method=Connection.AuthMethod.TOKEN, api_key=token,
                             settings={"rate_limit_per_second": 50, "read_timeout": 5})
    connection_check(connection=conn)
    connection_catalog_fetch(connection=conn, kind=CatalogKind.ACCOUNTS)
    return connection_configure(connection=conn)


def sample_entry(server, connection: Connection, reference: str, amount: Decimal = Decimal("115.00"),
                 on: date = date(2026, 11, 1)) -> AccountingEntry:
    tax = (amount * Decimal("0.15") / Decimal("1.15")).quantize(Decimal("0.01"))
    return AccountingEntry(
        kind=EntryKind.EXPENSE, reference=reference, date=on, currency="SAR",
        description=f"Client dinner ({reference})", merchant="Al Baik", employee="Sara Ali",
        lines=(EntryLine(role=LineRole.EXPENSE, account=schema.category_remote_id(MEALS_CATEGORY), debit=amount,
                         tax_rate=str(VAT_15), tax_amount=tax),
               EntryLine(role=LineRole.PAID_THROUGH, account=connection.employee_claims_account, credit=amount)))


def invalid_entry(server, connection: Connection, reference: str) -> tuple[AccountingEntry, str]:
    """An entry Moon rejects (a category that does not exist), and the field its 422 names."""
    entry = sample_entry(server, connection, reference)
    bad = EntryLine(role=LineRole.EXPENSE, account=schema.category_remote_id(999999), debit=entry.lines[0].debit,
                    tax_rate=entry.lines[0].tax_rate, tax_amount=entry.lines[0].tax_amount)
    return AccountingEntry(kind=entry.kind, reference=reference, date=entry.date, currency=entry.currency,
                           description=entry.description, lines=(bad, entry.lines[1])), "expense_category_id"


def reversal_entry(entry: AccountingEntry) -> AccountingEntry:
    return AccountingEntry(
        kind=EntryKind.REVERSAL, reference=entry.reference + "-R", date=entry.date, currency=entry.currency,
        reverses=entry.reference, description=f"Reversal of {entry.reference}",
        lines=tuple(EntryLine(role=line.role, account=line.account, debit=line.credit, credit=line.debit)
                    for line in entry.lines))


def held(server, reference: str) -> list[dict]:
    """What the vendor holds for a reference: expenses not deleted and not cancelled."""
    return [d for d in server.app.documents() if schema.holds_reference(d, reference)
            and not d.get("deleted_at") and d["status"] != "cancelled"]


def revoke(server) -> None:
    server.app.revoke_all_credentials()
