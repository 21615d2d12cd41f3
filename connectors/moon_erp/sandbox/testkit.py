"""What the contract suite (tests/contract/) needs from the Moon ERP package: a started sandbox, a
ready Connection pointing at it, and entries valid (or invalid) for its seeded company."""

from datetime import date
from decimal import Decimal

from ...entry import AccountingEntry, EntryKind, EntryLine, LineRole
from ...models import Connection
from ...sandboxing.entries import sample_reversal, with_bad_line
from ...sandboxing.server import control_settings
from .. import schema
from .server import FULL_TOKEN, make_server

MEALS_CATEGORY = 3
VAT_15 = 1
CASH_ON_HAND = 1
PERIOD_END_REPORTED = True   # the sandbox's 422 names the date the lock runs through


def start_sandbox():
    # The inferred 60/minute throttle is off here: the suite drives 429s with the fault switches.
    return make_server(throttle_per_minute=None).start()


def connect(server, organization, *, name: str = "Moon ERP sandbox", token: str = FULL_TOKEN) -> Connection:
    from ...base import CatalogKind
    from ...services import (
        connection_catalog_fetch,
        connection_check,
        connection_configure,
        connection_create,
    )
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
    return with_bad_line(entry, reference, bad), "expense_category_id"


def reversal_entry(entry: AccountingEntry) -> AccountingEntry:
    return sample_reversal(entry)


def held(server, reference: str) -> list[dict]:
    """What the vendor holds for a reference: expenses not deleted and not cancelled."""
    return [d for d in server.app.documents() if schema.holds_reference(d, reference)
            and not d.get("deleted_at") and d["status"] != "cancelled"]


def revoke(server) -> None:
    server.app.revoke_all_credentials()


# Close-work hooks (issue 17): change Moon's books behind our back, Moon's own way where its API
# has one (create, approve, cancel, delete a draft); its API edits no approved expense and posts
# no journal by hand, so those two go to the sandbox's books, as a person in Moon's UI would.
def _api(server, connection: Connection):
    from ..client import MoonClient
    return MoonClient(connection)


def _expense(server, connection: Connection, external_id: str) -> dict:
    return _api(server, connection).call("GET", f"/api/accounting/expenses/{external_id}").body["data"]


def tamper_delete(server, connection: Connection, external_id: str) -> None:
    """A draft is deleted; an approved expense (Moon deletes drafts only) is cancelled."""
    api, row = _api(server, connection), _expense(server, connection, external_id)
    if row["status"] == "draft":
        api.call("DELETE", f"/api/accounting/expenses/{external_id}")
    elif row["status"] == "approved":
        api.post(f"/api/accounting/expenses/{external_id}/cancel")


def tamper_edit_amount(server, connection: Connection, external_id: str, new_amount: Decimal) -> None:
    """The expense's total becomes `new_amount` (its tax kept); its journal lines follow."""
    row = _expense(server, connection, external_id)
    if row["status"] == "draft":
        net = new_amount - Decimal(str(row["tax_amount"]))
        _api(server, connection).call("PUT", f"/api/accounting/expenses/{external_id}",
                                      json_body={"amount": schema.money(net)})
        return
    server.app.edit_total(int(external_id), new_amount)


def tamper_duplicate(server, connection: Connection, external_id: str) -> str:
    """A second expense with the same fields (our reference in its notes), approved like the first."""
    row = _expense(server, connection, external_id)
    fields = {k: row[k] for k in server.app.store.FIELDS if row.get(k) is not None}
    api = _api(server, connection)
    copy = api.post("/api/accounting/expenses", fields).body["data"]
    if row["status"] == "approved":
        api.post(f"/api/accounting/expenses/{copy['id']}/approve")
    return str(copy["id"])


def tamper_manual_post(server, connection: Connection, account: str, amount: Decimal, on: date,
                       currency: str) -> str:
    """A journal posted by hand: `account` debited, Cash on Hand credited. An expense category is
    booked as an approved expense typed in Moon (no notes); a GL account through Moon's UI."""
    if account.startswith(schema.CATEGORY_PREFIX):
        api = _api(server, connection)
        row = api.post("/api/accounting/expenses", {
            "date": on.isoformat(), "expense_category_id": int(account[len(schema.CATEGORY_PREFIX):]),
            "description": "Typed in Moon", "amount": schema.money(amount), "payment_method": "cash",
            "paying_account_id": CASH_ON_HAND}).body["data"]
        api.post(f"/api/accounting/expenses/{row['id']}/approve")
        return str(row["id"])
    return server.app.manual_journal(on.isoformat(), [
        {"account_id": int(account), "debit": schema.money(amount), "credit": "0.000", "description": "By hand"},
        {"account_id": CASH_ON_HAND, "debit": "0.000", "credit": schema.money(amount), "description": "By hand"}])


def set_page_size(server, size: int) -> None:
    server.app.per_page = size


def lock_period(server, connection: Connection, through: date) -> None:
    control_settings(server, {"closed_through": through.isoformat()})


def mandatory_dimension(server, connection, account: str) -> str:
    """The ledger's mandatory-field rule for `account`: a cost centre (stated on the connection)."""
    from connectors.sandboxing.preflight import require_dimension
    return require_dimension(connection, account, "cost_center")


def deactivate_account(server, connection, account: str) -> None:
    """Deactivated in Moon ERP's chart (`is_active: false`): an account, or an expense category."""
    from ..schema import CATEGORY_PREFIX
    table = "transaction_categories" if account.startswith(CATEGORY_PREFIX) else "accounts"
    server.app.store.tables[table][int(account.removeprefix(CATEGORY_PREFIX))]["is_active"] = False


def deactivate_dimension(server, connection, remote_id: str) -> None:
    for table in ("cost_centers", "branches"):
        for row in server.app.store.tables[table].values():
            if str(row["id"]) == remote_id:
                row["is_active"] = False
