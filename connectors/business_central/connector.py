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

Push many is in batching.py, reversal in reversal.py, `ensure_account` in accounts.py.
"""

import logging
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import date, timedelta
from urllib.parse import quote

from django.db import transaction

from ..base import (
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
from ..errors import ConnectorError, OutcomeUnknown, PeriodClosed, Permanent
from ..models import Connection
from ..receipts import receipt_files
from . import accounts, batching, documents, links, reversal, schema
from . import catalog as bc_catalog
from .client import BusinessCentralClient
from .readback import BusinessCentralReadBack
from .settings import BusinessCentralSettings

log = logging.getLogger(__name__)
DEFAULT_JOURNAL = "EXPENSICO"
BLANK_DATE = "0001-01-01"    # how BC writes an empty date
CREATE_ATTEMPTS = 3      # creates, each after the last one's OutcomeUnknown proved it absent


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

    def _published_lock(self) -> date | None:
        """The last closed day by General Ledger Setup (page 118), None when it is not published
        or sets no "Allow Posting From"."""
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
        return accounts.ensure_account(self, spec)

    def odata_page(self, name: str) -> str:
        """A page the customer published as an OData V4 web service (API v2.0 lacks it)."""
        odata = self.client.base_url.rsplit("/api/", 1)[0] + "/ODataV4"
        return f"{odata}/Company('{quote(self.settings.company_name)}')/{name}"

    def closed_through(self, refusal: PeriodClosed) -> None:
        """BC's refusal does not say where posting opens again; General Ledger Setup does, when
        its page 118 is published (one request, only after a refusal)."""
        lock = self._published_lock()
        if lock is not None:     # else not published: the refusal stands without a period end
            refusal.period_end = lock.isoformat()

    # push -----------------------------------------------------------------------------------
    def push(self, entry: AccountingEntry, idempotency_key: str) -> PushResult:
        try:
            result = self._push(entry, idempotency_key)
            kind, _, ident = result.external_id.partition(":")
            # A journal's id is its document number; an invoice's number is BC's own (read back).
            return replace(result, document_number=ident if kind == "GJ" else result.document_number)
        except PeriodClosed as exc:
            self.closed_through(exc)
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
    push_many_limit = batching.DOCUMENTS_PER_BATCH

    def push_many(self, items: Sequence[tuple[AccountingEntry, str]]) -> list[PushResult | ConnectorError]:
        return batching.push_many(self, items)

    def pushes_together(self, entry: AccountingEntry) -> bool:
        """A journal document of one request: no receipt, no dimensions, not posted by us."""
        if self.posting or entry.kind is EntryKind.REVERSAL or entry.attachments or self.invoice_for(entry):
            return False
        try:
            return not any(ln.dimensions for ln in self.journal_lines(entry))
        except schema.UnsupportedEntry:
            return True      # push_many answers its refusal like any other document's

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
            invoice = self.invoice_for(entry)
            if invoice is not None:
                return "PI:" + documents.create_invoice(self, invoice, key, files=receipt_files(entry, warnings),
                                                        post=self.posting)
            lines = self.journal_lines(entry)
        except schema.UnsupportedEntry as exc:
            raise Permanent(str(exc), code=exc.code, field=exc.field) from exc
        number = schema.short_reference(entry.reference)
        documents.create_journal(self, lines, number, key, files=receipt_files(entry, warnings),
                                 post=self.posting)
        return f"GJ:{number}"

    def invoice_for(self, entry: AccountingEntry):
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

    def journal_lines(self, entry: AccountingEntry) -> list[schema.JournalLine]:
        return schema.journal_lines(entry, lcy=self.settings.lcy,
                                    base_currency=self.connection.organization.base_currency)

    def preview(self, entry: AccountingEntry) -> dict:
        """What `push` would send (dry run): no network. Money as strings, digit for digit."""
        invoice = self.invoice_for(entry)
        if invoice is not None:
            payload = {"mode": "purchase_invoice", "purchaseInvoice": invoice.header,
                       "purchaseInvoiceLines": [{**ln.body, "dimensionSetLines": ln.dimensions} for ln in invoice.lines]}
        else:
            payload = {"mode": "journal", "journalLines": [{**ln.body, "dimensionSetLines": ln.dimensions}
                                                           for ln in self.journal_lines(entry)]}
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
        return reversal.reverse(self, external_id, entry, idempotency_key)
