"""What the contract suite (tests/contract/) needs from the Wafeq package: a started sandbox, a
ready Connection pointing at it, and entries valid (or invalid) for its seeded chart."""

from datetime import date
from decimal import Decimal

import requests

from ...bodies import dumps_exact
from ...entry import AccountingEntry, EntryKind, EntryLine, LineRole
from ...models import Connection
from ...sandboxing.entries import sample_reversal, with_bad_line
from .server import API_KEY, WafeqSandbox, make_server


def start_sandbox():
    return make_server().start()


def connect(server, organization, *, name: str = "Wafeq sandbox") -> Connection:
    from ...base import CatalogKind
    from ...services import (
        connection_catalog_fetch,
        connection_check,
        connection_configure,
        connection_create,
    )
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
    return with_bad_line(entry, reference, bad), "account"


def reversal_entry(entry: AccountingEntry) -> AccountingEntry:
    return sample_reversal(entry)


def held(server, reference: str) -> list[dict]:
    """What the vendor holds for a reference (live documents only)."""
    return [d for d in server.app.documents("expenses") if d["reference"] == reference]


def revoke(server) -> None:
    server.app.revoke_all_credentials()


# Tampering behind our back, through Wafeq's own API (issue 17's reliability proof) -------------
WRITABLE = {"expenses": ("account", "paid_through_account", "amount", "currency", "date", "description",
                         "reference", "external_id", "tax_rate", "tax_amount_type", "contact", "cost_center",
                         "project", "branch", "exchange_rate"),
            "manual-journals": ("date", "reference", "notes", "external_id", "tax_amount_type", "line_items")}
LINE_WRITABLE = ("account", "amount", "amount_to_bcy", "currency", "description", "contact", "cost_center",
                 "project", "branch", "tax_rate", "tax_amount")


def _api(server, method: str, path: str, body=None):
    resp = requests.request(method, f"{server.base_url}/v1{path}", data=None if body is None else dumps_exact(body),
                            headers={"Authorization": f"Api-Key {API_KEY}", "Content-Type": "application/json"},
                            timeout=10)
    resp.raise_for_status()
    return resp.json() if resp.content else None


def _collection(external_id: str) -> str:
    return "manual-journals" if external_id.startswith("mj_") else "expenses"


def _writable(collection: str, row: dict) -> dict:
    out = {k: row[k] for k in WRITABLE[collection] if row.get(k) is not None}
    if collection == "manual-journals":
        out["line_items"] = [{k: li[k] for k in LINE_WRITABLE if li.get(k) is not None} for li in row["line_items"]]
    return out


def tamper_delete(server, connection, external_id: str) -> None:
    collection = _collection(external_id)
    if collection == "expenses" and _api(server, "GET", f"/expenses/{external_id}/")["status"] == "POSTED":
        _api(server, "POST", f"/expenses/{external_id}/mark-as-draft/")
    _api(server, "DELETE", f"/{collection}/{external_id}/")


def tamper_edit_amount(server, connection, external_id: str, new_amount: Decimal) -> None:
    """A Wafeq expense carries one amount for both sides; a journal's largest debit and credit move together."""
    collection = _collection(external_id)
    if collection == "expenses":
        _api(server, "PATCH", f"/expenses/{external_id}/", {"amount": new_amount})
        return
    row = _writable(collection, _api(server, "GET", f"/manual-journals/{external_id}/"))
    debit = max(row["line_items"], key=lambda li: Decimal(str(li["amount"])))
    credit = min(row["line_items"], key=lambda li: Decimal(str(li["amount"])))
    for line, value in ((debit, new_amount), (credit, -new_amount)):
        line["amount"] = line["amount_to_bcy"] = value
    _api(server, "PUT", f"/manual-journals/{external_id}/", row)


def tamper_duplicate(server, connection, external_id: str) -> str:
    collection = _collection(external_id)
    row = _api(server, "GET", f"/{collection}/{external_id}/")
    return _api(server, "POST", f"/{collection}/", _writable(collection, row))["id"]


def tamper_manual_post(server, connection, account: str, amount: Decimal, on: date, currency: str) -> str:
    """A hand-made journal debiting `account` against Accrued Expenses (no control account)."""
    accrued = next(a["id"] for a in _api(server, "GET", "/accounts/?classification=LIABILITY&page_size=1000")["results"]
                   if a["account_code"] == "2100")
    lines = [{"account": acc, "amount": value, "amount_to_bcy": value, "currency": currency,
              "description": "Booked by hand"} for acc, value in ((account, amount), (accrued, -amount))]
    return _api(server, "POST", "/manual-journals/", {"date": on.isoformat(), "reference": "",
                                                      "notes": "Manual adjustment", "line_items": lines})["id"]


def lock_period(server, connection, through: date) -> None:
    """Wafeq's lock date lives in its app settings, out of the API's reach: the sandbox control sets it."""
    requests.post(f"{server.base_url}/__sandbox__/lock-date", json={"lock_date": through.isoformat()},
                  timeout=10).raise_for_status()


PERIOD_END_REPORTED = True   # the sandbox's refusal names the lock date


def set_page_size(server, size: int) -> None:
    server.app.max_page_size = size


def mandatory_dimension(server, connection, account: str) -> str:
    """The ledger's mandatory-field rule for `account`: a cost centre (stated on the connection)."""
    from connectors.sandboxing.preflight import require_dimension
    return require_dimension(connection, account, "cost_center")


def deactivate_account(server, connection, account: str) -> None:
    """Locked in Wafeq's own screens (the API shows it as `is_locked`)."""
    server.app.store["accounts"][account]["is_locked"] = True


def deactivate_dimension(server, connection, remote_id: str) -> None:
    for collection in ("cost-centers", "branches"):
        if remote_id in server.app.store[collection]:
            server.app.store[collection][remote_id]["is_active"] = False
