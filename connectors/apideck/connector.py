"""Workday through Apideck's unified Accounting API: the six verbs over `ApideckClient`.

Connection: `base_url` https://unify.apideck.com (or a sandbox), `api_key` the Unify API key;
`settings`: app_id, consumer_id, service_id ("workday"), company_id, document ("journal_entry" or
"expense"), status ("posted"), default_cost_center, account_set ("Standard"), allow_drafts (false:
a journal entry Workday would keep as a draft is refused as a review item instead of sent).

Apideck cannot deduplicate a create, so a push that may be a re-send (an earlier POST under its
idempotency key succeeded, lost its answer or got a 5xx; a 4xx created nothing) first looks for a
journal entry whose `number` is our reference. The 10.34 contract has no `filter[number]`, so the
lookup pages through the journal entries (narrowed by `filter[updated_since]` when the window is
known).
"""

import dataclasses
from collections.abc import Iterator, Sequence
from datetime import date, timedelta
from decimal import Decimal

import stamina
from django.utils import timezone

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
from ..breaker import CircuitOpen
from ..entry import AccountingEntry, EntryKind
from ..errors import OutcomeUnknown, PeriodClosed, Permanent, RateLimited, Transient
from ..http import MAX_INLINE_RETRY_AFTER, RETRY_ATTEMPTS
from ..models import CallLog
from ..periods import ending_with_month
from . import readback, schema
from .client import ApideckClient
from .settings import ApideckUnifySettings

JE_PATH = "/accounting/journal-entries"
EXPENSE_PATH = "/accounting/expenses"
DEAD = {"voided", "deleted", "rejected"}
LOOKUP_MARGIN = timedelta(hours=1)      # clock skew between us and Apideck, generously
# What the admin setup flow filters its account choices on.
SUB_CLASSIFICATION = {"current_liability": "CURRENT_LIABILITY", "current_asset": "CURRENT_ASSET", "bank": "BANK"}
ACCOUNT_SHAPES = {  # purpose → (classification, type, code range)
    AccountPurpose.EMPLOYEE_CLAIMS: ("liability", "current_liability", range(2190, 2300)),
    AccountPurpose.EMPLOYEES_BALANCE: ("asset", "current_asset", range(1390, 1500)),
    AccountPurpose.FUNDING_BANK: ("asset", "bank", range(1090, 1100)),
}


def _retry(exc: Exception) -> bool | float:
    """Re-send only what certainly was not booked: throttling and 5xx (after a lookup)."""
    if isinstance(exc, RateLimited):
        if exc.retry_after is None:
            return True
        return exc.retry_after if exc.retry_after <= MAX_INLINE_RETRY_AFTER else False
    return isinstance(exc, Transient) and not isinstance(exc, CircuitOpen)


def _settings(connection) -> schema.ApideckSettings:
    s = ApideckUnifySettings.of(connection)
    return schema.ApideckSettings(company_id=s.company_id, status=s.status, document=s.document,
                                  default_cost_center=s.default_cost_center)


def _account_item(row: dict, kind: CatalogKind = CatalogKind.ACCOUNTS) -> CatalogItem:
    decoded = schema.decode_account_id(row["id"]) or {}
    # The mapping screens show `code`: the decoded "Account set/Account id" instead of base64.
    readable = (f"{decoded['Account_Set_Id']}/{decoded['Account_Id']}" if decoded
                else row.get("display_id") or row.get("code") or "")
    return CatalogItem(kind=kind, remote_id=row["id"], name=row.get("name") or "", code=readable,
                       classification="BANK" if kind is CatalogKind.BANK_ACCOUNTS else
                       (row.get("classification") or "other").upper(),
                       active=row.get("status", "active") == "active" and row.get("active", True) is not False,
                       extra={"account_set": decoded.get("Account_Set_Id", ""), "account_id": decoded.get("Account_Id", ""),
                              "display_id": row.get("display_id") or "", "type": row.get("type"),
                              "sub_classification": SUB_CLASSIFICATION.get(row.get("type"), ""), "account": row["id"]})


class ApideckWorkdayConnector(Connector):
    system = "apideck"
    label = "Workday via Apideck"
    reads_back = True

    def __init__(self, connection):
        super().__init__(connection)
        self.client = ApideckClient(connection)
        self.settings = _settings(connection)

    @staticmethod
    def readable_id(remote_id: str) -> str:
        """Our ids are base64 JSON, which no person can read on a mapping screen."""
        return schema.readable_account(remote_id)

    # check / catalog ------------------------------------------------------------------
    def check(self) -> CheckResult:
        info = self.client.call("GET", "/accounting/company-info").body["data"]
        return CheckResult(ok=True, organization_name=info.get("company_name") or info.get("legal_name") or "",
                           detail=f"service {ApideckUnifySettings.of(self.connection).service_id}, "
                                  f"currency {info.get('currency') or '?'}")

    offers_preflight = True
    unsettled_statuses = ("draft",)

    def preflight_metadata(self):
        """Workday behind Apideck keeps Workday's rule: a cost-centre worktag on expense accounts
        (a connection with a default cost centre always sends one)."""
        from ..preflight import metadata_from_catalog
        rules = {} if ApideckUnifySettings.of(self.connection).default_cost_center else \
            {"EXPENSE": ["Cost_Center_Reference_ID"]}
        return metadata_from_catalog(self, rules=rules)

    def dimension_key(self, kind: str) -> str:
        from ..worktags import worktag_type
        return worktag_type(kind) or kind

    def catalog(self, kind: CatalogKind) -> list[CatalogItem]:
        kind = CatalogKind(kind)
        if kind is CatalogKind.ACCOUNTS:
            return [_account_item(r) for r in self.client.list_all("/accounting/ledger-accounts")]
        if kind is CatalogKind.BANK_ACCOUNTS:
            return [_account_item(r, kind) for r in self.client.list_all("/accounting/ledger-accounts")
                    if r.get("type") == "bank"]
        if kind is CatalogKind.TAX_RATES:
            return [CatalogItem(kind=kind, remote_id=r["id"], name=r.get("name") or r["id"], code=r.get("code") or "",
                                extra={"rate": str(r.get("effective_tax_rate", ""))})
                    for r in self.client.list_all("/accounting/tax-rates")]
        if kind is CatalogKind.DIMENSIONS:
            return [CatalogItem(kind=kind, remote_id=r["id"], name=r.get("name") or r["id"], code=r.get("code") or "",
                                classification=f"worktag:{r.get('parent_id')}" if r.get("parent_id") else "worktag",
                                active=r.get("status", "active") == "active",
                                extra={"parent_name": r.get("parent_name") or ""})
                    for r in self.client.list_all("/accounting/tracking-categories")]
        if kind is CatalogKind.CONTACTS:
            return [CatalogItem(kind=kind, remote_id=r["id"], name=r.get("display_name") or r.get("company_name") or "",
                                classification="supplier") for r in self.client.list_all("/accounting/suppliers")]
        if kind is CatalogKind.CURRENCIES:
            base = self.client.call("GET", "/accounting/company-info").body["data"].get("currency") or ""
            codes = {base} | {r.get("currency") for r in self.client.list_all("/accounting/ledger-accounts")}
            return [CatalogItem(kind=kind, remote_id=c, name=c, code=c, extra={"base": c == base})
                    for c in sorted(c for c in codes if c)]
        raise ValueError(f"unknown catalog kind {kind}")

    # ensure_account -------------------------------------------------------------------
    def ensure_account(self, spec: AccountSpec) -> CatalogItem:
        classification, account_type, codes = ACCOUNT_SHAPES[spec.purpose]
        kind = CatalogKind.BANK_ACCOUNTS if spec.purpose is AccountPurpose.FUNDING_BANK else CatalogKind.ACCOUNTS
        rows = self.client.list_all("/accounting/ledger-accounts")
        for row in rows:
            if row.get("name") == spec.name and row.get("type") == account_type and row.get("status") != "inactive":
                return _account_item(row, kind)
        account_set = ApideckUnifySettings.of(self.connection).account_set
        used = {(schema.decode_account_id(r["id"]) or {}).get("Account_Id") for r in rows}
        code = next(str(c) for c in codes if str(c) not in used)
        payload = {"display_id": code, "code": code, "name": spec.name, "classification": classification,
                   "type": account_type}
        if spec.currency:
            payload["currency"] = spec.currency
        if account_set != "Standard":
            payload["parent_account"] = {"id": schema.encode_account_id("", account_set)}
        new_id = self.client.call("POST", "/accounting/ledger-accounts", json_body=payload).body["data"]["id"]
        return _account_item({**payload, "id": new_id, "status": "active"}, kind)

    # push -----------------------------------------------------------------------------
    def _payload(self, entry: AccountingEntry) -> tuple[str, dict]:
        try:
            if self.settings.document == "expense" and schema.fits_expense(entry):
                return EXPENSE_PATH, schema.expense_payload(entry, self.settings)
            return JE_PATH, schema.journal_entry_payload(entry, self.settings)
        except schema.UnsupportedEntry as exc:
            raise Permanent(str(exc), code=exc.code, field=exc.field) from exc

    def preview(self, entry: AccountingEntry) -> dict:
        """The request `push` would send (dry run): no network."""
        path, payload = self._payload(entry)
        return plain_payload({"method": "POST", "path": path, "body": payload})

    def push(self, entry: AccountingEntry, idempotency_key: str) -> PushResult:
        if entry.kind not in (EntryKind.EXPENSE, EntryKind.LEDGER_BANK_TRANSACTION, EntryKind.REVERSAL):
            raise Permanent(f"push does not take {entry.kind}", code="unsupported_entry", field="kind")
        path, payload = self._payload(entry)
        warnings = tuple(schema.draft_reasons(payload))
        if warnings and not ApideckUnifySettings.of(self.connection).allow_drafts:
            # Workday would silently keep it a draft: make it a review item (map the cost centre or
            # set a default) instead, unless the organisation accepts drafts.
            raise Permanent(warnings[0], code="would_stay_draft", field=schema.draft_field(payload))
        before = self.client.calls
        earlier = self._earlier_send(idempotency_key)
        started = earlier or timezone.now()

        def replayed(doc: RemoteDocument) -> PushResult:
            return PushResult(external_id=doc.external_id, replayed=True, calls=self.client.calls - before,
                              status=doc.status,
                              warnings=warnings + (("Workday kept it as a draft",) if doc.status == "draft" else ()))

        lookup_first = earlier is not None
        for attempt in stamina.retry_context(on=_retry, attempts=RETRY_ATTEMPTS, timeout=120):
            with attempt:
                if lookup_first:
                    doc = self._find(entry.reference, path, since=started)
                    if doc:
                        return replayed(doc)
                try:
                    resp = self.client.create(path, payload, idempotency_key)
                except PeriodClosed as exc:
                    # Workday's fault names no period; its ledger periods are months.
                    raise ending_with_month(exc, entry.date) from exc
                except OutcomeUnknown:
                    doc = self._find(entry.reference, path, since=started)
                    if doc:
                        return replayed(doc)
                    raise
                except RateLimited:
                    lookup_first = False     # a 429 was not processed
                    raise
                except Transient as exc:
                    # A 5xx may still have booked it downstream: look before the next attempt.
                    lookup_first = exc.status is not None
                    raise
        return PushResult(external_id=resp.body["data"]["id"], request_id=resp.request_id,
                          calls=self.client.calls - before, warnings=warnings,
                          status="draft" if warnings else str(payload.get("status") or ""))

    def _earlier_send(self, idempotency_key: str):
        """When the first earlier POST of this key that may have reached Apideck was made, or None.

        A 4xx (the 429 included) was refused before anything was created, and a Transient row
        without a status never left (connect timeout, connection refused): neither makes this push
        a re-send, so a person who fixes a mapping after a rejection is not locked out."""
        return (CallLog.objects.filter(connection_id=self.connection.pk, method="POST",
                                       idempotency_key=idempotency_key)
                .exclude(status__gte=400, status__lt=500)
                .exclude(status__isnull=True, error_class=Transient.__name__)
                .order_by("created_at").values_list("created_at", flat=True).first())

    def _find(self, reference: str, path: str, *, since) -> RemoteDocument | None:
        if path == EXPENSE_PATH:
            # Workday has no expense list: an expense whose answer was lost cannot be verified.
            raise Permanent("the expense may have been created but Apideck cannot list Workday expenses; "
                            "check Workday before re-sending", code="unverifiable_resend", field="number")
        return self._journal_entries([reference], since=since - LOOKUP_MARGIN).get(reference)

    # find_by_reference ----------------------------------------------------------------
    def _journal_entries(self, references: Sequence[str], *, since=None) -> dict[str, RemoteDocument]:
        wanted = set(references)
        params = {}
        if since is not None:
            params["filter[updated_since]"] = since.strftime("%Y-%m-%dT%H:%M:%S.000Z")
        found: dict[str, RemoteDocument] = {}
        for row in self.client.list_all(JE_PATH, **params):
            number = row.get("number")
            if number in wanted and row.get("status") not in DEAD:
                # The HTTP stack reads JSON numbers as Decimal: these are the digits Apideck wrote.
                debit = sum((abs(Decimal(i.get("total_amount") or 0)) for i in row.get("line_items") or []
                             if i.get("type") == "debit"), Decimal(0))
                found[number] = RemoteDocument(reference=number, external_id=row["id"], status=row.get("status", ""),
                                               amount=str(debit))
        return found

    def find_by_reference(self, references: Sequence[str]) -> dict[str, RemoteDocument]:
        """Journal entries only: Workday expenses cannot be listed through Apideck."""
        return self._journal_entries(list(dict.fromkeys(references)))

    # read_back ------------------------------------------------------------------------
    def read_back(self, *, date_from: date | None = None, date_to: date | None = None,
                  references: Sequence[str] = ()) -> Iterator[ReadBackPage]:
        refs = set(references)
        for rows in self.client.pages(JE_PATH, limit=readback.PAGE_SIZE):
            yield ReadBackPage(documents=tuple(
                readback.document(row) for row in rows
                if readback.wanted(row, date_from=date_from, date_to=date_to, references=refs)), requests=1)

    # reverse --------------------------------------------------------------------------
    def reverse(self, external_id: str, entry: AccountingEntry, idempotency_key: str) -> PushResult:
        """A journal entry is deleted (a draft disappears, a posted one is voided by Workday, in its
        own period; in a closed one the reversal is posted as a journal entry in the open period); an
        expense, which Workday cannot delete, is undone by pushing the reversal as a journal entry."""
        before = self.client.calls
        try:
            row = self.client.call("GET", f"{JE_PATH}/{external_id}").body["data"]
        except Permanent as exc:
            if exc.status != 404:
                raise
            row = None
        if row is None:
            if self._is_expense(external_id):
                result = self.push(entry, idempotency_key)
                return PushResult(external_id=result.external_id, replayed=result.replayed,
                                  calls=self.client.calls - before, warnings=result.warnings)
            return PushResult(external_id=external_id, calls=self.client.calls - before,
                              notes=("not found in Workday; nothing to reverse",))
        if row.get("status") in DEAD:
            return PushResult(external_id=external_id, calls=self.client.calls - before)
        try:
            self.client.call("DELETE", f"{JE_PATH}/{external_id}")
        except PeriodClosed:
            return self._reversing_entry(row, entry, idempotency_key, before)
        return PushResult(external_id=external_id, calls=self.client.calls - before)

    def _reversing_entry(self, row: dict, entry: AccountingEntry, idempotency_key: str, before: int) -> PushResult:
        """Workday voids a posted journal only in its own period: when that period is closed, the
        reversal entry (dated in the open period by the engine) is posted as a journal entry of its
        own, its memo naming the original's date. A refusal of that date too is PeriodClosed, which
        the connection's closed-period policy handles like any posting."""
        original = (row.get("posted_at") or "")[:10]
        if original and original != entry.date.isoformat():
            entry = dataclasses.replace(entry, description=f"{entry.description} (original date {original})".strip())
        result = self.push(entry, idempotency_key)
        return PushResult(external_id=result.external_id, replayed=result.replayed, calls=self.client.calls - before,
                          warnings=result.warnings, status=result.status, notes=(
                              f"journal entry {row['id']} is in Workday's closed period ({original}): reversing "
                              f"entry {entry.reference} posted on {entry.date.isoformat()}",))

    def _is_expense(self, external_id: str) -> bool:
        try:
            self.client.call("GET", f"{EXPENSE_PATH}/{external_id}")
        except Permanent as exc:
            if exc.status == 404:
                return False
            raise
        return True

