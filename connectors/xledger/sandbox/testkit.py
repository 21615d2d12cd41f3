"""What the contract suite (tests/contract/) needs from the Xledger package: a started GraphQL
sandbox, a Connection set up through the real services, and vouchers for its seeded chart."""

from datetime import date
from decimal import Decimal

import requests

from ...entry import AccountingEntry, EntryKind, EntryLine, LineRole
from ...models import Connection
from ...sandboxing.entries import sample_reversal, with_bad_line
from .. import schema
from ..readback import ROW_FIELDS
from .server import ACCOUNTANT_TOKEN, API_TOKEN, make_server


def start_sandbox():
    return make_server().start()


def connect(server, organization, *, name: str = "Xledger sandbox", **settings) -> Connection:
    from ...base import CatalogKind
    from ...services import (
        connection_catalog_fetch,
        connection_check,
        connection_configure,
        connection_create,
    )
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
    return with_bad_line(entry, reference, bad), "account"


def reversal_entry(entry: AccountingEntry) -> AccountingEntry:
    return sample_reversal(entry, keep=("tax_rate", "tax_amount", "dimensions"))


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


# Read-back suite and tampering (issue 17) -----------------------------------------------------
PERIOD_END_REPORTED = True   # the refusal names the last closed day
VOUCHER = f"""query Voucher($after: String) {{ glImportItems(first: {schema.PAGE}, after: $after) {{
  edges {{ cursor node {{ {ROW_FIELDS} }} }} pageInfo {{ hasNextPage }} }} }}"""
COPIED = ("postedDate", "invoiceDate", "amount", "invoiceAmount", "exchangeRate", "taxAmount", "text",
          "extIdentifier", "yourReference", "trRegNumber")
REFERENCES = ("account", "currency", "taxRule", "project", *(f"glObject{n}" for n in range(1, 6)))


def set_page_size(server, size: int) -> None:
    server.app.max_page = size


def _graphql(server, query: str, variables: dict | None = None) -> dict:
    resp = requests.post(f"{server.base_url}/graphql", json={"query": query, "variables": variables or {}},
                         headers={"Authorization": f"token {ACCOUNTANT_TOKEN}"}, timeout=10)
    resp.raise_for_status()
    body = resp.json()
    if body.get("errors"):
        raise AssertionError(body["errors"])
    return body["data"]


def _desk(server, **body) -> None:
    """The accountant's own screens (no API mutation does these): sandbox_ledger.py."""
    requests.post(f"{server.base_url}/__sandbox__/ledger-desk", json=body, timeout=10).raise_for_status()


def _add(server, nodes: list[dict]) -> str:
    data = _graphql(server, schema.ADD_VOUCHER, {"inputs": [{"clientId": str(i), "node": n}
                                                            for i, n in enumerate(nodes)]})
    return f"GLI:{min(int(e['node']['dbId']) for e in data['addGLImportItems']['edges'])}"


def tamper_delete(server, connection, external_id: str) -> None:
    _desk(server, delete_voucher=external_id.removeprefix("GLI:"))


def tamper_edit_amount(server, connection, external_id: str, new_amount: Decimal) -> None:
    _desk(server, edit_voucher=external_id.removeprefix("GLI:"), amount=format(new_amount, "f"))


def tamper_duplicate(server, connection, external_id: str) -> str:
    """The same voucher sent again through `addGLImportItems`: same reference and lines, new ids."""
    from ..readback import vouchers
    rows = [e["node"] for e in _graphql(server, VOUCHER)["glImportItems"]["edges"]]
    voucher = next(v for v in vouchers(rows) if min(int(r["dbId"]) for r in v) == int(external_id[4:]))
    nodes = [{**{k: r[k] for k in COPIED if r.get(k) is not None},
              **{k: {"dbId": r[k]["dbId"]} for k in REFERENCES if r.get(k) and r[k].get("dbId")}}
             for r in voucher]
    return _add(server, nodes)


def tamper_manual_post(server, connection, account: str, amount: Decimal, on: date, currency: str) -> str:
    """A voucher keyed by hand: `account` against other equity (2050), no reference of ours."""
    common = {"postedDate": on.isoformat(), "invoiceDate": on.isoformat(), "text": "Booked by hand",
              "currency": {"code": currency}, "transactionSource": {"code": "GL"}}
    return _add(server, [{**common, "account": schema.reference(account), "amount": format(amount, "f")},
                         {**common, "account": {"code": "2050"}, "amount": format(-amount, "f")}])


def lock_period(server, connection, through: date) -> None:
    """Xledger closes periods in its own screens; no API mutation is known (sandbox_ledger.py)."""
    _desk(server, closed_through=through.isoformat())


def mandatory_dimension(server, connection, account: str) -> str:
    """The ledger's mandatory-field rule for `account`: a cost centre (stated on the connection)."""
    from connectors.sandboxing.preflight import require_dimension
    return require_dimension(connection, account, "cost_center")


def deactivate_account(server, connection, account: str) -> None:
    """Closed for posting in Xledger's screens (`posting: false`)."""
    server.app._find("accounts", "dbId", account)["posting"] = False


def deactivate_dimension(server, connection, remote_id: str) -> None:
    server.app._find("objectValues", "dbId", remote_id)["posting"] = False
