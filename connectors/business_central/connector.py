"""The Business Central connector: the six verbs of `connectors.base.Connector` over API v2.0.

Per-connection settings (Connection.settings): `export_mode` "journal" (default) or
"purchase_invoice"; `post` (call `Microsoft.NAV.post` after creating); `journal_code`
(default EXPENSICO, at most 10 characters); `authority_host`/`tenant`/`ca_bundle` for Entra;
`company_id` and `journal_id` are remembered by `check()`.

Journal lines go into the connection's journal batch (`journal_code`) for the accountant to
review and post. With `post` on they go instead into a batch of the document's own
(`schema.posting_journal_code`), which is posted and deleted: `Microsoft.NAV.post` posts every
line of a batch, and a shared batch can hold another worker's document half-made (contract
A7.1: a dedicated batch when posting automatically). A receipt is attached to the document's
first journal line (`parentType` "Journal") or to the purchase invoice.

Duplicates: BC has no idempotency header. Our reference (short form, see schema.py) goes into
`documentNumber`/`externalDocumentNumber` or `vendorInvoiceNumber`. A document built in several
requests carries a pending number until its last request, so a lookup never reports a half-made
one (documents.py). A push whose key was sent before, or whose answer was lost or ambiguous
(408, 504, 5xx without `Retry-After`), looks the reference up (one `$batch` of GETs), clears
any half-made pieces, and only then sends again.

Reversal, the vendor's way: unposted journal lines and draft purchase invoices are deleted
(`If-Match` with their ETag); a posted journal document gets a reversing journal document,
numbered `short("R:" + reference)` so the original can be recognised as reversed. A posted
purchase invoice gets a corrective credit memo (`purchaseCreditMemos` with `invoiceId`, numbered
`short("R:" + reference)`); draft credit-memo dimensions are not copied. Either is posted only
with the `post` option; without it, it waits in BC for the accountant.
"""

import logging
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import date, timedelta
from urllib.parse import quote

from django.db import transaction

from ..base import (
    AccountPurpose,
    AccountSpec,
    CatalogItem,
    CatalogKind,
    CheckResult,
    Connector,
    PushResult,
    ReadBackPage,
    RemoteDocument,
    plain_payload,
)
from ..entry import AccountingEntry, EntryKind, LineRole
from ..errors import ConnectorError, OutcomeUnknown, PeriodClosed, Permanent, Transient
from ..models import Connection
from ..receipts import receipt_files
from . import catalog as bc_catalog
from . import documents, links, schema
from .client import BusinessCentralClient
from .readback import BusinessCentralReadBack
from .settings import BusinessCentralSettings

log = logging.getLogger(__name__)
DEFAULT_JOURNAL = "EXPENSICO"
BLANK_DATE = "0001-01-01"    # how BC writes an empty date
# Documents one `$batch` carries (push many): each in its own atomicity group (≤100 operations a
# call); 50 lets a backlog spread over the workers while a call still carries many.
DOCUMENTS_PER_BATCH = 50
CREATE_ATTEMPTS = 3      # creates, each after the last one's OutcomeUnknown proved it absent
ACCOUNT_SHAPES = {   # purpose → (category, subcategory, number range)
    AccountPurpose.EMPLOYEE_CLAIMS: ("Liabilities", "Current Liabilities", range(2190, 2300)),
    AccountPurpose.EMPLOYEES_BALANCE: ("Assets", "Current Assets", range(1390, 1500)),
}


def reversal_number(reference: str) -> str:
    return schema.short_reference("R:" + reference)


class BusinessCentralConnector(Connector):
    system = "business_central"
    label = "Dynamics 365 Business Central"
    reads_back = True
    # The API and every environment under it, plus Entra (token endpoint and msal discovery).

    def __init__(self, connection):
        super().__init__(connection)
        self.client = BusinessCentralClient(connection)

    @property
    def mode(self) -> str:
        return self.settings.export_mode

    @property
    def posting(self) -> bool:
        return self.settings.post

    @property
    def settings(self) -> BusinessCentralSettings:
        return BusinessCentralSettings.of(self.connection)

    def cp(self, rest: str) -> str:
        return self.client.company_path(rest)

    def _remember(self, **values) -> None:
        with transaction.atomic():
            row = Connection.objects.select_for_update().get(pk=self.connection.pk)
            row.settings = {**row.settings, **values}
            row.save(update_fields=["settings", "updated_at"])
        self.connection.settings = row.settings

    # check / catalog ----------------------------------------------------------------------
    def check(self) -> CheckResult:
        companies = self.client.list_all("companies")
        if not companies:
            return CheckResult(ok=False, detail="the environment has no company")
        wanted = self.settings.company_id or self.settings.company_name
        company = next((c for c in companies if wanted in (c["id"], c["name"])), companies[0])
        self._remember(company_id=company["id"], company_name=company["name"])
        info = self.client.list_all(self.cp("companyInformation"))
        if info and info[0].get("currencyCode"):
            self._remember(lcy=info[0]["currencyCode"])
        detail = f"company {company['name']} ({company['id']})"
        if self.mode == "journal":
            detail += f", journal {self.journal_id(refresh=True)}"
        return CheckResult(ok=True, organization_name=company.get("displayName") or company["name"], detail=detail)

    def journal_id(self, *, refresh: bool = False) -> str:
        """Find or create our general journal batch once, then remember it (`check()` looks again)."""
        code = self.settings.journal_code or DEFAULT_JOURNAL
        if len(code) > schema.JOURNAL_CODE_LENGTH:
            # BC would refuse the batch (Code[10]); say which setting to change, before sending.
            raise Permanent(f"the connection's journal_code {code!r} has {len(code)} characters; a Business Central "
                            f"journal code has at most {schema.JOURNAL_CODE_LENGTH}", code="invalid_setting",
                            field="journal_code")
        if not refresh and self.settings.journal_id and self.settings.journal_for == code:
            return self.settings.journal_id
        rows = self.client.list_all(self.cp("journals"), **{"$filter": f"code eq {schema.odata_quote(code)}"})
        row = rows[0] if rows else self.client.request("POST", self.cp("journals"), json_body={
            "code": code, "displayName": "Expensico exports", "templateDisplayName": "GENERAL"}).body
        self._remember(journal_id=row["id"], journal_for=code)
        return row["id"]

    offers_preflight = True

    def preflight_metadata(self):
        """General Ledger Setup's "Allow Posting From" (when page 118 is published) is the lock."""
        from ..preflight import metadata_from_catalog
        return metadata_from_catalog(self, closed_through=self._published_lock(), home_currency=self.settings.lcy,
                                     extra_accounts=bc_catalog.unpostable_accounts(self))

    def _published_lock(self):
        try:
            setup = self.client.list_all(self.odata_page("General_Ledger_Setup"))
        except ConnectorError:
            return None
        start = (setup[0].get("Allow_Posting_From") if setup else "") or BLANK_DATE
        return None if start == BLANK_DATE else date.fromisoformat(start) - timedelta(days=1)

    def catalog(self, kind: CatalogKind) -> list[CatalogItem]:
        return bc_catalog.fetch(self, CatalogKind(kind))

    # ensure_account -------------------------------------------------------------------------
    def ensure_account(self, spec: AccountSpec) -> CatalogItem:
        name = spec.name[:100]
        if spec.purpose is AccountPurpose.FUNDING_BANK:
            for item in self.catalog(CatalogKind.BANK_ACCOUNTS):
                if item.name == name:
                    return item
            used = {i.code for i in self.catalog(CatalogKind.BANK_ACCOUNTS)}
            number = next(f"EXP{n:02d}" for n in range(1, 100) if f"EXP{n:02d}" not in used)
            row = self.client.request("POST", self.cp("bankAccounts"),
                                      json_body={"number": number, "displayName": name}).body
            return bc_catalog.bank_item(row)
        every = self.client.list_all(self.cp("accounts"))
        for row in every:
            if row["displayName"] == name and row["accountType"] == "Posting":
                return bc_catalog.account_item(row)
        category, subcategory, numbers = ACCOUNT_SHAPES[spec.purpose]
        used = {row["number"] for row in every}
        number = next(str(n) for n in numbers if str(n) not in used)
        # API v2.0 `accounts` is read-only; the Chart of Accounts page published as an OData V4
        # web service is the documented way to insert G/L accounts from outside.
        try:
            self.client.request("POST", self.odata_page("Chart_of_Accounts"), json_body={
                "No": number, "Name": name, "Account_Type": "Posting", "Income_Balance": "Balance Sheet",
                "Account_Category": category, "Account_Subcategory_Descript": subcategory, "Direct_Posting": True})
        except Permanent as exc:
            if exc.status == 404:
                raise Permanent(f"create the G/L account {name!r} in Business Central (or publish page 16 "
                                f"'Chart of Accounts' as a web service)", code="account_missing") from exc
            raise
        rows = self.client.list_all(self.cp("accounts"), **{"$filter": f"number eq {schema.odata_quote(number)}"})
        return bc_catalog.account_item(rows[0])

    def odata_page(self, name: str) -> str:
        """A page the customer published as an OData V4 web service (API v2.0 lacks it)."""
        odata = self.client.base_url.rsplit("/api/", 1)[0] + "/ODataV4"
        return f"{odata}/Company('{quote(self.settings.company_name)}')/{name}"

    def _closed_through(self, refusal: PeriodClosed) -> None:
        """BC's refusal does not say where posting opens again; General Ledger Setup does, when
        its page 118 is published (one request, only after a refusal)."""
        try:
            setup = self.client.list_all(self.odata_page("General_Ledger_Setup"))
        except ConnectorError:
            return        # not published: the refusal stands without a period end
        start = (setup[0].get("Allow_Posting_From") if setup else "") or BLANK_DATE
        if start != BLANK_DATE:
            refusal.period_end = (date.fromisoformat(start) - timedelta(days=1)).isoformat()

    # push -----------------------------------------------------------------------------------
    def push(self, entry: AccountingEntry, idempotency_key: str) -> PushResult:
        try:
            result = self._push(entry, idempotency_key)
            kind, _, ident = result.external_id.partition(":")
            # A journal's id is its document number; an invoice's number is BC's own (read back).
            return replace(result, document_number=ident if kind == "GJ" else result.document_number)
        except PeriodClosed as exc:
            self._closed_through(exc)
            raise

    def _push(self, entry: AccountingEntry, idempotency_key: str) -> PushResult:
        before = self.client.calls
        if entry.kind is EntryKind.REVERSAL:
            raise Permanent("push does not take reversals; use reverse()", code="unsupported_entry", field="kind")
        if self.client.first_sent(idempotency_key):
            found = self._resume(entry, idempotency_key)
            if found:
                return PushResult(external_id=found, replayed=True, calls=self.client.calls - before)
        for attempt in range(1, CREATE_ATTEMPTS + 1):
            warnings: list[str] = []
            try:
                external_id = self._create(entry, idempotency_key, warnings)
                return PushResult(external_id=external_id, calls=self.client.calls - before,
                                  warnings=tuple(warnings))
            except OutcomeUnknown:
                if attempt == CREATE_ATTEMPTS:
                    raise
                found = self._resume(entry, idempotency_key)     # proven absent: send again
                if found:
                    return PushResult(external_id=found, replayed=True, calls=self.client.calls - before)
        raise AssertionError("unreachable")

    # push many -------------------------------------------------------------------------------
    push_many_limit = DOCUMENTS_PER_BATCH

    def push_many(self, items: Sequence[tuple[AccountingEntry, str]]) -> list[PushResult | ConnectorError]:
        """Journal documents that fit one request each (no receipt, no dimensions, not posted by
        us) go in one `$batch`, each document's lines in an atomicity group of their own, so a
        document BC refuses fails alone. Anything else takes `push`'s road, one by one. Documents
        whose key was sent before are looked up first, all in one read-only batch (a group is all
        or nothing, so an absent one left no pieces but those a staged attempt may have)."""
        before = self.client.calls
        out: dict[int, PushResult | ConnectorError] = {}
        simple: dict[int, list[schema.JournalLine]] = {}
        for i, (entry, _key) in enumerate(items):
            if not self.pushes_together(entry):
                continue
            try:
                lines = self._journal_lines(entry)
            except schema.UnsupportedEntry as exc:
                out[i] = Permanent(str(exc), code=exc.code, field=exc.field)
                continue
            simple[i] = lines
        for i in range(len(items)):
            if i not in simple and i not in out:
                try:
                    out[i] = self.push(*items[i])
                except ConnectorError as exc:
                    out[i] = exc
        self._resume_many(items, simple, out)
        groups = self._groups(simple)
        for chunk in groups:
            try:
                self._send_groups(items, {i: simple[i] for i in chunk}, out)
            except ConnectorError as exc:     # what befell the call befell each document in it
                out.update({i: exc for i in chunk})
        calls = self.client.calls - before
        return [replace(r, calls=calls) if isinstance(r, PushResult) and i in simple else r
                for i, r in ((i, out[i]) for i in range(len(items)))]

    def pushes_together(self, entry: AccountingEntry) -> bool:
        """A journal document of one request: no receipt, no dimensions, not posted by us."""
        if self.posting or entry.kind is EntryKind.REVERSAL or entry.attachments or self._invoice(entry):
            return False
        try:
            return not any(ln.dimensions for ln in self._journal_lines(entry))
        except schema.UnsupportedEntry:
            return True      # push_many answers its refusal like any other document's

    def _resume_many(self, items, simple: dict[int, list], out: dict) -> None:
        sent = self.client.first_sent_many([items[i][1] for i in simple])
        again = [i for i in simple if items[i][1] in sent]
        if not again:
            return
        states = bc_catalog.resume_states(self, [items[i][0].reference for i in again])
        for i in again:
            found, _doc, pieces = states[items[i][0].reference]
            try:
                documents.clear(self, pieces, receipts_too=False)
            except ConnectorError as exc:
                out[i] = exc
                del simple[i]
                continue
            if found is not None:
                number = found.external_id.partition(":")[2] if found.external_id.startswith("GJ:") else ""
                out[i] = PushResult(external_id=found.external_id, replayed=True, document_number=number)
                del simple[i]

    @staticmethod
    def _groups(simple: dict[int, list]) -> list[list[int]]:
        """Documents per `$batch`: whole documents only, at most 100 operations a call."""
        chunks: list[list[int]] = [[]]
        used = 0
        for i, lines in simple.items():
            if chunks[-1] and (used + len(lines) > schema.MAX_BATCH or len(chunks[-1]) >= DOCUMENTS_PER_BATCH):
                chunks.append([])
                used = 0
            chunks[-1].append(i)
            used += len(lines)
        return [c for c in chunks if c]

    def _send_groups(self, items, docs: dict[int, list[schema.JournalLine]], out: dict) -> None:
        path = self.cp(f"journals({self.journal_id()})/journalLines")
        ops, owner = [], []
        for i, lines in docs.items():
            for ln in lines:
                ops.append({"method": "POST", "url": path, "body": ln.body, "atomicityGroup": f"doc{i}"})
                owner.append(i)
        responses = self.client.batch_groups(ops, keys=[items[i][1] for i in docs])
        broken, causes = set(), {}
        for i, resp in zip(owner, responses, strict=True):
            status = int(resp.get("status", 500))
            if status >= 400:
                broken.add(i)
            if status >= 400 and status != 424 and i not in causes:   # a 424 only points at the cause
                causes[i] = self.client._translate(status, resp.get("body"), resp.get("headers") or {}, "")
        for i in docs:
            if i in broken:
                error = causes.get(i) or Transient("the document's group was not run (424)")
                if isinstance(error, PeriodClosed):
                    self._closed_through(error)
                out[i] = error
                continue
            number = schema.short_reference(items[i][0].reference)
            out[i] = PushResult(external_id=f"GJ:{number}", document_number=number)

    def _resume(self, entry: AccountingEntry, key: str) -> str | None:
        """An earlier attempt may have been here: the whole document if BC holds it (posted now if
        only its posting was missing), else None once the pieces of a half-made one are gone."""
        found, doc, pieces = bc_catalog.resume_state(self, entry.reference)
        documents.clear(self, pieces, receipts_too=bool(entry.attachments))
        if found is None:
            return None
        if self.posting and doc.own_lines:
            documents.post_journal(self, doc.journal["id"], key)
        elif self.posting and found.external_id.startswith("PI:") and found.status == "Draft":
            self.client.request("POST", self.cp(f"purchaseInvoices({found.external_id[3:]})/Microsoft.NAV.post"),
                                idempotency_key=key)
        return found.external_id

    def _create(self, entry: AccountingEntry, key: str, warnings: list[str]) -> str:
        try:
            invoice = self._invoice(entry)
            if invoice is not None:
                return "PI:" + documents.create_invoice(self, invoice, key, files=receipt_files(entry, warnings),
                                                        post=self.posting)
            lines = self._journal_lines(entry)
        except schema.UnsupportedEntry as exc:
            raise Permanent(str(exc), code=exc.code, field=exc.field) from exc
        number = schema.short_reference(entry.reference)
        documents.create_journal(self, lines, number, key, files=receipt_files(entry, warnings),
                                 post=self.posting)
        return f"GJ:{number}"

    def _invoice(self, entry: AccountingEntry):
        """The purchase invoice an entry becomes in purchase-invoice mode, or None for a journal.
        Card spend is paid from the Employees Balance, so nobody is owed it: it stays a journal
        in either mode (as corporate-card expenses do in Fyle's Business Central export)."""
        if self.mode != "purchase_invoice" or entry.kind is not EntryKind.EXPENSE:
            return None
        card = self.connection.employees_balance_account
        if card and any(line.account == card for line in entry.lines_with(LineRole.PAID_THROUGH)):
            return None
        vendor = entry.contact or self.settings.default_vendor_id
        return schema.purchase_invoice(entry, vendor_id=vendor, lcy=self.settings.lcy)

    def _journal_lines(self, entry: AccountingEntry) -> list[schema.JournalLine]:
        return schema.journal_lines(entry, lcy=self.settings.lcy,
                                    base_currency=self.connection.organization.base_currency)

    def preview(self, entry: AccountingEntry) -> dict:
        """What `push` would send (dry run): no network. Money as strings, digit for digit."""
        invoice = self._invoice(entry)
        if invoice is not None:
            payload = {"mode": "purchase_invoice", "purchaseInvoice": invoice.header,
                       "purchaseInvoiceLines": [{**ln.body, "dimensionSetLines": ln.dimensions} for ln in invoice.lines]}
        else:
            payload = {"mode": "journal", "journalLines": [{**ln.body, "dimensionSetLines": ln.dimensions}
                                                           for ln in self._journal_lines(entry)]}
        return plain_payload(payload)

    # find_by_reference ----------------------------------------------------------------------
    def find_by_reference(self, references: Sequence[str]) -> dict[str, RemoteDocument]:
        return bc_catalog.lookup(self, list(dict.fromkeys(references)))

    # read_back --------------------------------------------------------------------------------
    def read_back(self, *, date_from: date | None = None, date_to: date | None = None,
                  references: Sequence[str] = ()) -> Iterator[ReadBackPage]:
        return BusinessCentralReadBack(self).pages(date_from=date_from, date_to=date_to, references=references)

    @staticmethod
    def vendor_reference(reference: str) -> str:
        return schema.short_reference(reference)

    @staticmethod
    def document_url(connection: Connection, external_id: str, *, reference: str = "") -> str | None:
        return links.document_url(connection, external_id, reference=reference)

    # reverse --------------------------------------------------------------------------------
    def reverse(self, external_id: str, entry: AccountingEntry, idempotency_key: str) -> PushResult:
        before = self.client.calls
        kind, _, ident = external_id.partition(":")
        if kind == "PI":
            return self._reverse_invoice(ident, entry, idempotency_key, before)
        short, reference = ident, entry.reverses or ""
        number = reversal_number(reference) if reference else ""
        original, reversal, pieces = bc_catalog.journal_state(self, short, number)
        if original.unposted:
            shared = self.settings.journal_id
            ops = [{"method": "DELETE", "url": self.cp(f"journals({shared})/journalLines({ln['id']})"),
                    "headers": {"If-Match": ln.get("@odata.etag", "*")}} for ln in original.shared]
            if original.own_lines:
                ops.append({"method": "DELETE", "url": self.cp(f"journals({original.journal['id']})"),
                            "headers": documents.ANY})
            self.client.batch(ops)
            return PushResult(external_id=external_id, calls=self.client.calls - before)
        if not original.posted:
            return PushResult(external_id=external_id, calls=self.client.calls - before,
                              notes=("already gone in Business Central",))
        if reversal and reversal.exists:
            if self.posting and reversal.own_lines:      # made earlier, its posting never landed
                documents.post_journal(self, reversal.journal["id"], idempotency_key)
            return PushResult(external_id=external_id, calls=self.client.calls - before,
                              notes=("already reversed",))
        if not reference:
            raise Permanent("a posted journal needs the reversal entry's `reverses` reference", field="reverses")
        try:
            lines = self._journal_lines(entry)
        except schema.UnsupportedEntry as exc:
            raise Permanent(str(exc), code=exc.code, field=exc.field) from exc
        documents.clear(self, pieces, receipts_too=False)
        # Without the `post` option the reversing document waits, unposted, for the accountant.
        documents.create_journal(self, lines, number, idempotency_key, files=[], post=self.posting)
        return PushResult(external_id=f"GJ:{number}", calls=self.client.calls - before)

    def _reverse_invoice(self, invoice_id: str, entry: AccountingEntry, key: str, before: int) -> PushResult:
        external_id = f"PI:{invoice_id}"
        try:
            row = self.client.request("GET", self.cp(f"purchaseInvoices({invoice_id})")).body
        except Permanent as exc:
            if exc.status != 404:
                raise
            return PushResult(external_id=external_id, calls=self.client.calls - before,
                              notes=("already deleted in Business Central",))
        if row["status"] in ("Draft", " ", ""):
            self.client.request("DELETE", self.cp(f"purchaseInvoices({invoice_id})"),
                                headers={"If-Match": row.get("@odata.etag", "*")})
            return PushResult(external_id=external_id, calls=self.client.calls - before)
        # Posted: BC's way is a corrective credit memo applied to the invoice, then posted.
        number = reversal_number(entry.reverses or row["vendorInvoiceNumber"])
        existing = self.client.list_all(self.cp("purchaseCreditMemos"),
                                        **{"$filter": f"vendorCreditMemoNumber eq {schema.odata_quote(number)}"})
        if existing and existing[0]["status"] == "Draft" and self.posting:   # made earlier, never posted
            self.client.request("POST", self.cp(f"purchaseCreditMemos({existing[0]['id']})/Microsoft.NAV.post"),
                                idempotency_key=key)
            return PushResult(external_id=f"PCM:{existing[0]['id']}", calls=self.client.calls - before)
        if existing or row["status"] == "Corrective":
            return PushResult(external_id=external_id, calls=self.client.calls - before,
                              notes=("already reversed",))
        try:
            memo = schema.credit_memo(entry, vendor_id=row["vendorId"], invoice_id=invoice_id, number=number,
                                      lcy=self.settings.lcy)
        except schema.UnsupportedEntry as exc:
            raise Permanent(str(exc), code=exc.code, field=exc.field) from exc
        header = self.client.request("POST", self.cp("purchaseCreditMemos"), idempotency_key=key, json_body={
            **memo.header, "purchaseCreditMemoLines": [ln.body for ln in memo.lines]}).body
        if self.posting:     # otherwise the draft credit memo waits for the accountant
            self.client.request("POST", self.cp(f"purchaseCreditMemos({header['id']})/Microsoft.NAV.post"),
                                idempotency_key=key)
        return PushResult(external_id=f"PCM:{header['id']}", calls=self.client.calls - before)
