"""What the contract suite (tests/contract/) needs from the Wafeq package: a started sandbox, a
ready Connection pointing at it, and entries valid (or invalid) for its seeded chart."""

from datetime import date
from decimal import Decimal

from ..entry import AccountingEntry, EntryKind, EntryLine, LineRole
from ..models import Connection
from .sandbox import API_KEY, WafeqSandbox, make_server


def start_sandbox():
    return make_server().start()


def connect(server, organization, *, name: str = "Wafeq sandbox") -> Connection:
    from ..base import CatalogKind
    from ..services import connection_catalog_fetch, connection_check, connection_configure, connection_create
    conn = connection_create(organization=organization, system="wafeq", name=name,
                             base_url=f"{server.base_url}/v1", api_key=API_KEY,
                             settings={"rate_limit_per_second": 50, "read_timeout": 5})
    connection_check(connection=conn)
    connection_catalog_fetch(connection=conn, kind=CatalogKind.ACCOUNTS)
    return connection_configure(connection=conn)


def _expense_account(app: WafeqSandbox) -> str:
    return next(a["id"] for a in app.store["accounts"].values() if a["classification"] == "EXPENSE")


def sample_entry(server, connection: Connection, reference: str, amount: Decimal = Decimal("115.00")) -> AccountingEntry:
    vat = next(t["id"] for t in server.app.store["tax-rates"].values() if t["name"] == "VAT 15%")
    tax = (amount * Decimal("0.15") / Decimal("1.15")).quantize(Decimal("0.01"))
    return AccountingEntry(
        kind=EntryKind.EXPENSE, reference=reference, date=date(2026, 11, 1), currency="SAR",
        description=f"Taxi to client ({reference})", merchant="Careem",
        lines=(EntryLine(role=LineRole.EXPENSE, account=_expense_account(server.app), debit=amount, tax_rate=vat,
                         tax_amount=tax),
               EntryLine(role=LineRole.PAID_THROUGH, account=connection.employee_claims_account, credit=amount)))


def invalid_entry(server, connection: Connection, reference: str) -> tuple[AccountingEntry, str]:
    """An entry Wafeq rejects, and the field its validation error must name."""
    entry = sample_entry(server, connection, reference)
    bad = entry.lines[0].__class__(role=LineRole.EXPENSE, account="acc_doesNotExist000000000", debit=entry.lines[0].debit)
    return AccountingEntry(kind=entry.kind, reference=reference, date=entry.date, currency=entry.currency,
                           description=entry.description, lines=(bad, entry.lines[1])), "account"


def reversal_entry(entry: AccountingEntry) -> AccountingEntry:
    return AccountingEntry(
        kind=EntryKind.REVERSAL, reference=entry.reference + "-R", date=entry.date, currency=entry.currency,
        reverses=entry.reference, description=f"Reversal of {entry.reference}",
        lines=tuple(EntryLine(role=line.role, account=line.account, debit=line.credit, credit=line.debit)
                    for line in entry.lines))


def held(server, reference: str) -> list[dict]:
    """What the vendor holds for a reference (live documents only)."""
    return [d for d in server.app.documents("expenses") if d["reference"] == reference]


def revoke(server) -> None:
    server.app.revoke_all_credentials()
