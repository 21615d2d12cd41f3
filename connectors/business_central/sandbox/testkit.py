"""What the contract suite (tests/contract/) needs from the Business Central package: a started
(HTTPS) sandbox, a Connection set up through the real services, and entries for its chart."""

import uuid
from datetime import date, timedelta
from decimal import Decimal

import requests

from ...bodies import dumps_exact
from ...entry import AccountingEntry, EntryKind, EntryLine, LineRole
from ...models import Connection
from ...sandboxing.entries import sample_reversal, with_bad_line
from .. import schema
from ..client import SCOPE
from ..readback import journal_documents
from .server import API_PREFIX, CLIENT_ID, CLIENT_SECRET, ODATA_PREFIX, TENANT, make_server


def start_sandbox():
    return make_server().start()


def connect(server, organization, *, name: str = "Business Central sandbox", **settings) -> Connection:
    from ...base import CatalogKind
    from ...services import (
        connection_catalog_fetch,
        connection_check,
        connection_configure,
        connection_create,
    )
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
    return with_bad_line(entry, reference, bad), "accountId"


def reversal_entry(entry: AccountingEntry) -> AccountingEntry:
    return sample_reversal(entry, keep=("tax_rate", "dimensions"))


def held(server, reference: str) -> list[dict]:
    """Live documents BC holds for a reference (unposted journal document, posted entries, invoices)."""
    return server.app.documents(schema.short_reference(reference))


def revoke(server) -> None:
    server.app.revoke_all_credentials()


# Read-back suite (tests/contract/test_read_back.py) ---------------------------------------------
READ_BACK_STATUS = "draft"          # the default connection leaves its journal lines for the accountant
POSTING_SETTINGS = {"post": True}   # BC checks "Allow Posting From/To" when posting
PERIOD_END_REPORTED = True          # read from General Ledger Setup after the refusal
LOCK_PUBLISHED = True               # General Ledger Setup (page 118) is read by pre-flight's metadata


def set_page_size(server, size: int) -> None:
    server.app.max_page_size = size


# Tampering behind our back, through BC's own API (issue 17's reliability proof) -----------------
# Unposted journal lines are deleted, edited and copied where they are; posted G/L entries cannot
# be changed in BC, so an accountant posts a correcting journal under the same document number.
class _Session(requests.Session):
    """Trusts the sandbox's certificate on every call (a session-level `verify` loses to
    REQUESTS_CA_BUNDLE from the environment)."""

    def request(self, *args, **kw):
        return super().request(*args, verify=self.ca_bundle, timeout=10, **kw)


def _session(server) -> requests.Session:
    session = _Session()
    session.ca_bundle = server.app.ca_bundle
    token = session.post(f"{server.base_url}/{TENANT}/oauth2/v2.0/token", data={
        "grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
        "scope": SCOPE}).json()["access_token"]
    session.headers.update({"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    company = session.get(f"{server.base_url}{API_PREFIX}companies").json()["value"][0]
    session.company_url = f"{server.base_url}{API_PREFIX}companies({company['id']})/"
    session.company_name = company["name"]
    return session


def _api(session, method: str, path: str, body=None, etag: str | None = None):
    headers = {"If-Match": etag} if etag else {}
    resp = session.request(method, session.company_url + path, data=None if body is None else dumps_exact(body),
                           headers=headers)
    resp.raise_for_status()
    return resp.json() if resp.content else None


def _number(external_id: str) -> str:
    return external_id.removeprefix("GJ:").split("#")[0]


def _filtered(session, path: str, number: str) -> list[dict]:
    return _api(session, "GET", f"{path}?$filter=documentNumber eq {schema.odata_quote(number)}")["value"]


def _unposted(session, connection, external_id: str) -> list[dict]:
    """The journal lines of one unposted document, grouped as read-back groups them."""
    rows = _filtered(session, f"journals({connection.settings['journal_id']})/journalLines", _number(external_id))
    docs = journal_documents(rows, currency="", tax_rates={}, known={})
    return next((d.raw["journalLines"] for d in docs if d.external_id == external_id), [])


def _account_type(session, account: str) -> str:
    if _api(session, "GET", f"accounts?$filter=id eq {account}")["value"]:
        return "G/L Account"
    if _api(session, "GET", f"bankAccounts?$filter=id eq {account}")["value"]:
        return "Bank Account"
    return "Employee"


def _post(session, number: str, on: str, movements: list[tuple[str, Decimal]], description: str) -> None:
    """A person's journal: its own batch, one line per (account, signed amount), posted."""
    code = "T" + schema.posting_journal_code(number + on + str(movements))[2:]
    journal = _api(session, "POST", "journals", {"code": code, "displayName": "Manual", "templateDisplayName": "GENERAL"})
    for account, amount in movements:
        _api(session, "POST", f"journals({journal['id']})/journalLines", {
            "accountType": _account_type(session, account), "accountId": account, "postingDate": on,
            "documentNumber": number, "amount": amount, "description": description})
    _api(session, "POST", f"journals({journal['id']})/Microsoft.NAV.post")


def _posted_movements(session, number: str) -> tuple[str, list[tuple[str, Decimal]]]:
    entries = _filtered(session, "generalLedgerEntries", number)
    return entries[0]["postingDate"], [(e["accountId"], Decimal(str(e["debitAmount"])) - Decimal(str(e["creditAmount"])))
                                       for e in entries]


def tamper_delete(server, connection, external_id: str) -> None:
    session = _session(server)
    lines = _unposted(session, connection, external_id)
    for line in lines:
        _api(session, "DELETE", f"journals({line['journalId']})/journalLines({line['id']})", etag=line["@odata.etag"])
    if not lines:
        on, movements = _posted_movements(session, _number(external_id))
        _post(session, _number(external_id), on, [(a, -m) for a, m in movements], "Reversed by hand")


def tamper_edit_amount(server, connection, external_id: str, new_amount: Decimal) -> None:
    """A line with a balancing account moves both sides; otherwise the largest debit and credit move."""
    session = _session(server)
    lines = _unposted(session, connection, external_id)
    if lines:
        debit = max(lines, key=lambda ln: Decimal(str(ln["amount"])))
        credit = min(lines, key=lambda ln: Decimal(str(ln["amount"])))
        changes = [(debit, new_amount)] if debit["balancingAccountId"] else [(debit, new_amount), (credit, -new_amount)]
        for line, amount in changes:
            _api(session, "PATCH", f"journals({line['journalId']})/journalLines({line['id']})", {"amount": amount},
                 etag=line["@odata.etag"])
        return
    on, movements = _posted_movements(session, _number(external_id))
    debit = max(movements, key=lambda m: m[1])
    credit = min(movements, key=lambda m: m[1])
    delta = new_amount - debit[1]
    _post(session, _number(external_id), on, [(debit[0], delta), (credit[0], -delta)], "Corrected by hand")


def tamper_duplicate(server, connection, external_id: str) -> str:
    """Copies an unposted document's lines into the journal under the same number."""
    session = _session(server)
    lines = _unposted(session, connection, external_id)
    if not lines:
        raise ValueError(f"{external_id} is posted: BC's API shows a posted copy only merged into the original")
    keep = ("accountType", "accountId", "postingDate", "documentNumber", "externalDocumentNumber", "amount",
            "description", "comment", "taxCode", "balanceAccountType", "balancingAccountId")
    journal = lines[0]["journalId"]
    for line in lines:
        _api(session, "POST", f"journals({journal})/journalLines", {k: line[k] for k in keep if line.get(k)})
    rows = _filtered(session, f"journals({journal})/journalLines", _number(external_id))
    return journal_documents(rows, currency="", tax_rates={}, known={})[-1].external_id


def tamper_manual_post(server, connection, account: str, amount: Decimal, on: date, currency: str) -> str:
    """A posted journal debiting `account` against Retained Earnings (no control account)."""
    session = _session(server)
    equity = _api(session, "GET", "accounts?$filter=number eq '3100'")["value"][0]["id"]
    number = "MAN-" + uuid.uuid4().hex[:12].upper()
    _post(session, number, on.isoformat(), [(account, amount), (equity, -amount)], "Booked by hand")
    return f"GJ:{number}"


def lock_period(server, connection, through: date) -> None:
    """General Ledger Setup's "Allow Posting From", through its published OData V4 page."""
    session = _session(server)
    page = f"{server.base_url}{ODATA_PREFIX}Company('{session.company_name}')/General_Ledger_Setup('')"
    session.patch(page, json={"Allow_Posting_From": (through + timedelta(days=1)).isoformat()},
                  headers={"If-Match": "*"}).raise_for_status()


def mandatory_dimension(server, connection, account: str) -> str:
    """The ledger's mandatory-field rule for `account`: a cost centre (stated on the connection)."""
    from connectors.sandboxing.preflight import require_dimension
    return require_dimension(connection, account, "cost_center")


def deactivate_account(server, connection, account: str) -> None:
    """Blocked on the G/L account card (the API's `accounts` are read-only)."""
    with server.app.lock:
        server.app.sets["accounts"][account]["blocked"] = True


def deactivate_dimension(server, connection, remote_id: str) -> None:
    """Blocked on the dimension value card."""
    with server.app.lock:
        server.app.sets["dimensionValues"][remote_id]["blocked"] = True
