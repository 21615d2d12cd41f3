"""The Xledger connector: the six verbs of `connectors.base.Connector` over GraphQL.

Frugal by design (every request beyond 5,000 a month is billed): a push is one
`addGLImportItems` call with all lines of the voucher; the reference lookup (`extIdentifier`)
happens only when it can matter (the same idempotency key was sent before, or the answer was
lost or may have been applied: a 5xx, a timeout, a partial answer), and one lookup query serves
any number of references (rows, reversals and import errors in one request). How references are
looked up (a documented `modifiedAt_gte` window, or reference filters the schema was seen to
have) is lookup.py's business.

Reversal: Xledger has no mutation to remove GL import rows, so a reversal is a reversing voucher
(the reversal entry's lines) whose `yourReference` names the original; a reversed reference no
longer counts as held. Import failures are asynchronous: `import_failures()` polls
`glImportItemErrors` (the optional capability the export engine polls), and `find_by_reference`
reports a reference whose newest import failed as not live (imports.py). A failed voucher booked
nothing, so a push finding one sends the voucher again.
"""

from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import date

from django.db import transaction
from django.utils import timezone

from ..base import (
    AccountPurpose,
    AccountSpec,
    CatalogItem,
    CatalogKind,
    CheckResult,
    Connector,
    ImportFailure,
    PushResult,
    ReadBackPage,
    RemoteDocument,
)
from ..entry import AccountingEntry, EntryKind, LineRole
from ..errors import ConnectorError, OutcomeUnknown, Permanent
from ..models import Connection
from . import (
    dashboard,  # noqa: F401  (the usage panel registers on import)
    imports,
    lookup,
    schema,
)
from .client import Refusal, XledgerClient
from .readback import XledgerReadBack
from .selectors import INCLUDED_REQUESTS, PRICE_PER_REQUEST, requests_this_month
from .settings import XledgerSettings

ACCOUNT_CODES = {AccountPurpose.EMPLOYEE_CLAIMS: range(2940, 2990), AccountPurpose.EMPLOYEES_BALANCE: range(1580, 1600)}
LEDGER_TYPES = {AccountPurpose.EMPLOYEE_CLAIMS: "LIABILITY", AccountPurpose.EMPLOYEES_BALANCE: "ASSET"}
ADD_ACCOUNTS = """mutation AddAccounts($inputs: [AddAccountsInput!]!) {
  addAccounts(inputs: $inputs) { edges { node { dbId } } } }"""
ADD_BANK_ACCOUNTS = """mutation AddBankAccounts($inputs: [AddBankAccountsInput!]!) {
  addBankAccounts(inputs: $inputs) { edges { node { dbId } } } }"""
ACCOUNT_FIELDS = "dbId code description ledgerType posting"
# Vouchers one `addGLImportItems` call carries (push many). Xledger documents no cap on `inputs`;
# 50 keeps a call far below any body limit, and a backlog still spreads over the workers.
VOUCHERS_PER_CALL = 50


def classification(row: dict) -> tuple[str, str]:
    """(classification, sub_classification). Xledger's `ledgerType` when set, else the
    Norwegian standard chart (NS 4102) by first digit: 1 assets, 2 equity/liabilities,
    3 income, 4–8 costs."""
    code = str(row.get("code") or "")
    kind = row.get("ledgerType") or {"1": "ASSET", "2": "LIABILITY", "3": "REVENUE"}.get(code[:1], "EXPENSE")
    if code[:2] in ("20",) and not row.get("ledgerType"):
        kind = "EQUITY"
    sub = {"ASSET": "CURRENT_ASSET" if code[:2] in ("14", "15", "16", "17", "18", "19") else "",
           "LIABILITY": "CURRENT_LIABILITY" if code[:2] in ("24", "25", "26", "27", "28", "29") else ""}.get(kind, "")
    return kind, sub


def account_item(row: dict) -> CatalogItem:
    kind, sub = classification(row)
    return CatalogItem(kind=CatalogKind.ACCOUNTS, remote_id=str(row["dbId"]), name=row["description"] or "",
                       code=row["code"] or "", classification=kind, extra={"sub_classification": sub},
                       active=row.get("posting") is not False)   # Xledger closes an account by ending posting


def bank_item(row: dict) -> CatalogItem:
    return CatalogItem(kind=CatalogKind.BANK_ACCOUNTS, remote_id=str(row["dbId"]), name=row["description"] or "",
                       code=row["code"] or "", classification="BANK",
                       extra={"account": (row.get("account") or {}).get("dbId") or "",
                              "currency": (row.get("currency") or {}).get("code") or ""})


class XledgerConnector(Connector):
    system = "xledger"
    label = "Xledger"
    polls_import_failures = True     # vouchers are booked by a later import job that may reject them
    monthly_request_allowance = INCLUDED_REQUESTS
    request_price = (PRICE_PER_REQUEST, "GBP")

    def __init__(self, connection):
        super().__init__(connection)
        self.client = XledgerClient(connection)

    # check / catalog ----------------------------------------------------------------------
    def check(self) -> CheckResult:
        edges = self.client.graphql(schema.ENTITY)["entities"]["edges"]
        if not edges:
            return CheckResult(ok=False, detail="the token sees no entity")
        entity = edges[0]["node"]
        base = (entity.get("currency") or {}).get("code") or ""
        learned = {"base_currency": base, "entity_db_id": entity["dbId"]}
        if not XledgerSettings.of(self.connection).lookup_by:
            learned["lookup_filters_detected"] = self._detect_lookup_filters()
        with transaction.atomic():
            row = Connection.objects.select_for_update().get(pk=self.connection.pk)
            row.settings = {**row.settings, **learned}
            row.save(update_fields=["settings", "updated_at"])
        self.connection.settings = row.settings
        used = requests_this_month(self.connection)
        return CheckResult(ok=True, organization_name=entity["description"],
                           detail=f"entity {entity['code']} ({entity['dbId']}), base currency {base}, "
                                  f"references looked up by {lookup.mode(XledgerSettings.of(row))}, {used} requests this month")

    def _detect_lookup_filters(self) -> bool:
        try:
            return lookup.filters_present(self.client.graphql(schema.LOOKUP_FILTERS))
        except Permanent:   # introspection refused: the documented window needs nothing from it
            return False

    @property
    def lookup_mode(self) -> str:
        return lookup.mode(XledgerSettings.of(self.connection))

    offers_preflight = True

    def preflight_metadata(self):
        from ..preflight import metadata_from_catalog
        return metadata_from_catalog(self)

    def catalog(self, kind: CatalogKind) -> list[CatalogItem]:
        kind, c = CatalogKind(kind), self.client
        if kind is CatalogKind.ACCOUNTS:
            return [account_item(r) for r in c.paged(schema.list_query("accounts", ACCOUNT_FIELDS), "accounts")]
        if kind is CatalogKind.BANK_ACCOUNTS:
            rows = c.paged(schema.list_query("bankAccounts", "dbId code description account { dbId } currency { code }"),
                           "bankAccounts")
            return [bank_item(r) for r in rows]
        if kind is CatalogKind.TAX_RATES:
            # Import rows reference tax rules by code, so the code is the remote id.
            return [CatalogItem(kind=kind, remote_id=r["code"], name=r["text"] or r["code"], code=r["code"],
                                extra={"db_id": r["dbId"]})
                    for r in c.paged(schema.list_query("taxTableSetups", "dbId code text"), "taxTableSetups")]
        if kind is CatalogKind.DIMENSIONS:
            data = c.graphql("""query Dimensions { kinds: objectKinds(first: 10000) { edges { node { dbId name } } }
              values: objectValues(first: 10000) { edges { node { dbId code description objectKindDbId posting } } }
              projects(first: 10000) { edges { node { dbId code description } } } }""")
            slots = {e["node"]["dbId"]: (i + 1, e["node"]["name"]) for i, e in enumerate(data["kinds"]["edges"])}
            items = []
            for edge in data["values"]["edges"]:
                value = edge["node"]
                slot, name = slots.get(value["objectKindDbId"], (None, ""))
                if slot and slot <= schema.GL_OBJECT_SLOTS:
                    items.append(CatalogItem(kind=kind, remote_id=str(value["dbId"]), name=value["description"] or "",
                                             code=value["code"] or "", classification=f"gl_object:{slot}",
                                             active=value.get("posting") is not False,
                                             extra={"object_kind": name}))
            items += [CatalogItem(kind=kind, remote_id=str(p["node"]["dbId"]), name=p["node"]["description"] or "",
                                  code=p["node"]["code"] or "", classification="project")
                      for p in data["projects"]["edges"]]
            return items
        if kind is CatalogKind.CONTACTS:
            data = c.graphql("""query Contacts {
              employees(first: 10000) { edges { node { dbId code description email subledger { code } } } }
              suppliers(first: 10000) { edges { node { dbId code description email } } } }""")
            # An employee's subledger code is what `employee_subledgers` maps a claimant to.
            return [CatalogItem(kind=kind, remote_id=str(e["node"]["dbId"]), name=e["node"]["description"] or "",
                                code=e["node"]["code"] or "", classification=role[:-1],
                                extra={"email": e["node"].get("email") or "",
                                       "subledger": (e["node"].get("subledger") or {}).get("code") or ""})
                    for role in ("employees", "suppliers") for e in data[role]["edges"]]
        if kind is CatalogKind.CURRENCIES:
            return [CatalogItem(kind=kind, remote_id=r["code"], name=r["description"] or r["code"], code=r["code"])
                    for r in c.paged(schema.list_query("currencies", "code description"), "currencies")]
        raise ValueError(f"unknown catalog kind {kind}")

    # ensure_account -------------------------------------------------------------------------
    def ensure_account(self, spec: AccountSpec) -> CatalogItem:
        if spec.purpose is AccountPurpose.FUNDING_BANK:
            banks = self.catalog(CatalogKind.BANK_ACCOUNTS)
            for item in banks:
                if item.name == spec.name:
                    return item
            used = {i.code for i in banks}
            code = next(f"EXP{n}" for n in range(1, 100) if f"EXP{n}" not in used)
            ledger = next(a for a in self.catalog(CatalogKind.ACCOUNTS) if a.code.startswith("19"))
            self.client.graphql(ADD_BANK_ACCOUNTS, {"inputs": [{"node": {
                "code": code, "description": spec.name, "account": {"dbId": ledger.remote_id}}}]}, mutation=True)
            return next(i for i in self.catalog(CatalogKind.BANK_ACCOUNTS) if i.code == code)
        accounts = self.catalog(CatalogKind.ACCOUNTS)
        for item in accounts:
            if item.name == spec.name:
                return item
        used = {i.code for i in accounts}
        code = next(str(n) for n in ACCOUNT_CODES[spec.purpose] if str(n) not in used)
        self.client.graphql(ADD_ACCOUNTS, {"inputs": [{"node": {
            "code": code, "description": spec.name, "posting": True, "ledgerType": LEDGER_TYPES[spec.purpose]}}]},
            mutation=True)
        rows = self.client.graphql(schema.list_query("accounts", ACCOUNT_FIELDS, f'filter: {{code: "{code}"}}'),
                                   {"after": None})["accounts"]["edges"]
        return account_item(rows[0]["node"])

    # push -----------------------------------------------------------------------------------
    def push(self, entry: AccountingEntry, idempotency_key: str) -> PushResult:
        before, started = self.client.calls, timezone.now()
        if entry.kind is EntryKind.REVERSAL:
            raise Permanent("push does not take reversals; use reverse()", code="unsupported_entry", field="kind")
        inputs = self._inputs(entry)
        first_sent = self.client.first_sent(idempotency_key)
        if first_sent:
            found = self._held(entry.reference, since=first_sent)
            if found:
                return PushResult(external_id=found.external_id, replayed=True, calls=self.client.calls - before)
        try:
            external_id = self._send_voucher(inputs, idempotency_key)
        except OutcomeUnknown:
            found = self._held(entry.reference, since=min(first_sent or started, started))
            if found:
                return PushResult(external_id=found.external_id, replayed=True, calls=self.client.calls - before)
            external_id = self._send_voucher(inputs, idempotency_key)   # proven absent: send again
        return PushResult(external_id=external_id, calls=self.client.calls - before, notes=self._receipt_notes(entry))

    # push many -------------------------------------------------------------------------------
    push_many_limit = VOUCHERS_PER_CALL

    def push_many(self, items: Sequence[tuple[AccountingEntry, str]]) -> list[PushResult | ConnectorError]:
        """Many vouchers in one `addGLImportItems` call (each voucher's lines together), results
        matched back by `clientId` ("<voucher>.<line>"). Vouchers whose key was sent before are
        looked up first, all in one look-up. A refusal of the call (atomic: nothing applied) that
        names its input fails that voucher alone and the others go again; one that names none is
        resolved by sending the vouchers one per call. A partial answer (data and errors): a
        voucher with every line among the edges is added, any other may be half there
        (OutcomeUnknown, the engine looks it up)."""
        before = self.client.calls
        out: dict[int, PushResult | ConnectorError] = {}
        vouchers: dict[int, list[dict]] = {}
        for i, (entry, _key) in enumerate(items):
            try:
                if entry.kind is EntryKind.REVERSAL:
                    raise Permanent("push does not take reversals; use reverse()", code="unsupported_entry",
                                    field="kind")
                vouchers[i] = self._inputs(entry)
            except Permanent as exc:
                out[i] = exc
        sent = self.client.first_sent_many([items[i][1] for i in vouchers])
        if sent:
            again = [i for i in vouchers if items[i][1] in sent]
            held = self._lookup([items[i][0].reference for i in again], since=min(sent.values()))
            for i in again:
                doc = held.get(items[i][0].reference)
                if doc is not None and doc.live:
                    out[i] = PushResult(external_id=doc.external_id, replayed=True)
                    del vouchers[i]
        alone = False
        while vouchers:
            order = list(vouchers)[:1] if alone else list(vouchers)
            inputs = [{**line, "clientId": f"{i}.{j}"} for i in order for j, line in enumerate(vouchers[i])]
            try:
                data, _errors = self.client.mutate_many(schema.ADD_VOUCHER, {"inputs": inputs},
                                                        keys=[items[i][1] for i in order])
            except Refusal as exc:
                at = exc.input_index()
                if at is None and len(order) > 1:
                    alone = True          # which voucher it was, only sending them apart can tell
                    continue
                culprit = order[0] if at is None else int(str(inputs[at]["clientId"]).partition(".")[0])
                out[culprit] = exc.cause
                del vouchers[culprit]
                continue
            except ConnectorError as exc:     # what befell the call befell each voucher in it
                out.update({i: exc for i in order})
                vouchers = {i: v for i, v in vouchers.items() if i not in order}
                continue
            applied: dict[int, list[int]] = {}
            for edge in data["addGLImportItems"]["edges"]:
                applied.setdefault(int(str(edge["clientId"]).partition(".")[0]), []).append(int(edge["node"]["dbId"]))
            for i in order:
                got = applied.get(i, [])
                out[i] = PushResult(external_id=f"GLI:{min(got)}", notes=self._receipt_notes(items[i][0])) \
                    if len(got) == len(vouchers[i]) else OutcomeUnknown(
                        f"partial answer: {len(got)} of {len(vouchers[i])} lines of this voucher were added")
                del vouchers[i]
        calls = self.client.calls - before
        return [replace(r, calls=calls) if isinstance(r, PushResult) else r for r in (out[i] for i in range(len(items)))]

    @staticmethod
    def _receipt_notes(entry: AccountingEntry) -> tuple[str, ...]:
        # `invoiceFile` on import rows has undocumented semantics: receipts are not sent. That is
        # true of every Xledger voucher, so it is a note on the attempt, not a review item each.
        return ("Xledger GL import rows carry no receipt; it stays in Expensico",) if entry.attachments else ()

    def preview(self, entry: AccountingEntry) -> dict:
        """The `addGLImportItems` call `push` would make (dry run): no network."""
        return {"query": schema.ADD_VOUCHER, "variables": {"inputs": self._inputs(entry)}}

    def _inputs(self, entry: AccountingEntry, your_reference: str = "") -> list[dict]:
        settings = XledgerSettings.of(self.connection)
        # Entries name the claimant, not an Xledger employee: a per-connection map (or one
        # pooled employee subledger) says whose subledger the paid-through line counter-posts to.
        subledger = settings.employee_subledgers.get(entry.employee) or settings.employee_subledger
        try:
            return schema.voucher_inputs(entry, base_currency=settings.base_currency,
                                         your_reference=your_reference, subledger=subledger,
                                         bank_ledger=self._bank_ledger(entry),
                                         rate_currency=self.connection.organization.base_currency)
        except schema.UnsupportedEntry as exc:
            raise Permanent(str(exc), code=exc.code, field=exc.field) from exc

    def _bank_ledger(self, entry: AccountingEntry) -> dict[str, str]:
        """Bank account dbId → its GL account dbId, asked for (one billed request) only when a
        bank line needs it and the connection does not know it yet, then kept in its settings."""
        banks = {line.account for line in entry.lines if line.role is LineRole.BANK}
        known = XledgerSettings.of(self.connection).bank_ledger_accounts
        if banks - set(known):
            known = {item.remote_id: item.extra["account"] for item in self.catalog(CatalogKind.BANK_ACCOUNTS)
                     if item.extra.get("account")}
            with transaction.atomic():
                row = Connection.objects.select_for_update().get(pk=self.connection.pk)
                row.settings = {**row.settings, "bank_ledger_accounts": known}
                row.save(update_fields=["settings"])
            self.connection.settings = row.settings
        return known

    def _send_voucher(self, inputs: list[dict], key: str) -> str:
        data = self.client.graphql(schema.ADD_VOUCHER, {"inputs": inputs}, mutation=True, idempotency_key=key)
        ids = [int(edge["node"]["dbId"]) for edge in data["addGLImportItems"]["edges"]]
        return f"GLI:{min(ids)}"

    def _held(self, reference: str, *, since) -> RemoteDocument | None:
        """The live voucher for a reference; a failed import booked nothing, so it is not held."""
        found = self._lookup([reference], since=since).get(reference)
        return found if found and found.live else None

    # find_by_reference ----------------------------------------------------------------------
    def _answer(self, references: list[str], since=None) -> dict:
        since = since or lookup.window_start(XledgerSettings.of(self.connection), timezone.now())
        return lookup.fetch(self.client, references, how=self.lookup_mode, since=since)

    def _lookup(self, references: list[str], since=None) -> dict[str, RemoteDocument]:
        if not references:
            return {}
        found, reversed_refs = imports.documents(self._answer(references, since))
        return {ref: doc for ref, doc in found.items() if ref not in reversed_refs}

    def find_by_reference(self, references: Sequence[str]) -> dict[str, RemoteDocument]:
        return self._lookup(list(dict.fromkeys(references)))

    def import_failures(self, *, since: str | None = None) -> list[ImportFailure]:
        """Asynchronous import errors created at or after `since` (an Xledger timestamp), oldest first."""
        rows = self.client.paged(schema.IMPORT_ERRORS, "glImportItemErrors", since=since)
        return [imports.failure(r) for r in rows]

    # read_back --------------------------------------------------------------------------------
    reads_back = True

    @property
    def read_back_request_budget(self) -> int:
        """Requests left in this month's allowance (beyond it, each is billed)."""
        return max(0, INCLUDED_REQUESTS - requests_this_month(self.connection))

    def read_back(self, *, date_from: date | None = None, date_to: date | None = None,
                  references: Sequence[str] = ()) -> Iterator[ReadBackPage]:
        return XledgerReadBack(self).pages(date_from=date_from, date_to=date_to, references=references)

    # reverse --------------------------------------------------------------------------------
    def reverse(self, external_id: str, entry: AccountingEntry, idempotency_key: str) -> PushResult:
        before = self.client.calls
        original = entry.reverses
        if not original:
            raise Permanent("a reversal entry needs `reverses`", code="unsupported_entry", field="reverses")
        # Our own reference too: a reversing voucher that failed to import does not count as done.
        found, reversed_refs = imports.documents(self._answer([original, entry.reference]))
        notes = ()
        if original in reversed_refs:
            return PushResult(external_id=external_id, calls=self.client.calls - before, notes=("already reversed",))
        if original not in found and self.lookup_mode == "window" and external_id.startswith("GLI:"):
            # Older than the look-up window is not absent: the export stored its voucher's id.
            notes = ("the original is older than the look-up window; reversed on its stored voucher id",)
        elif original not in found:
            return PushResult(external_id=external_id, calls=self.client.calls - before,
                              notes=("nothing held in Xledger for this reference",))
        elif not found[original].live:
            return PushResult(external_id=external_id, calls=self.client.calls - before,
                              notes=("the original voucher failed to import; nothing to reverse",))
        reversal_id = self._send_voucher(self._inputs(entry, your_reference=original), idempotency_key)
        return PushResult(external_id=reversal_id, calls=self.client.calls - before, notes=notes)

