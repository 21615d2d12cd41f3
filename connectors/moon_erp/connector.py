"""The Moon ERP connector: the six verbs of `connectors.base.Connector` over `MoonClient`.

Export is two steps, create the draft then approve it (Moon posts the journal entry); reversal is
Moon's cancel (it posts the mirror entry). There is no idempotency key and no reference filter:
our reference goes into `notes` (and the description), and before anything is re-sent (an
earlier call carried this record's key, per the call log, in flight ones included) the expense
date's range is listed and `notes` matched; a first send costs two calls, create and approve.
`find_by_reference` learns the dates from the logged create bodies, so any process lists only
those days. Moon computes tax and totals itself, so they are compared with our entry before
approval: a difference deletes the draft and becomes a Permanent `amount_mismatch` (a review
item), never a silently different booking.
"""

from collections.abc import Iterator, Sequence
from datetime import date
from decimal import Decimal

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
    VendorDocument,
    plain_payload,
)
from ..entry import AccountingEntry
from ..errors import OutcomeUnknown, PeriodClosed, Permanent
from ..models import Connection
from . import readback, schema
from .client import MoonClient, with_moon_defaults
from .settings import MoonErpSettings

API = "/api/accounting"
EXPENSES = f"{API}/expenses"
MAX_RESOLUTIONS = 3          # lost create answers resolved by lookup before giving up with OutcomeUnknown
PER_DAY_LISTINGS = 2         # find_by_reference lists day by day up to this many distinct dates
REVERSAL_SUFFIX = "-R"
REQUIRED_PERMISSIONS = ("accounting.expenses.view", "accounting.expenses.create", "accounting.expenses.update",
                        "accounting.expenses.approve", "accounting.expenses.cancel")
CLASSIFICATION = {"asset": "ASSET", "liability": "LIABILITY", "equity": "EQUITY", "revenue": "REVENUE",
                  # GL expense accounts are not mapping targets (Moon books an expense by its category,
                  # whose GL account Moon picks), so their classification must not read as "expense".
                  "expense": "COST_GL"}
SUB_CLASSIFICATION = {"cash": "CASH_EQUIVALENTS", "bank": "CASH_EQUIVALENTS"}
ACCOUNT_SHAPES = {  # purpose → (type, sub_type, free code range)
    AccountPurpose.EMPLOYEE_CLAIMS: ("liability", "current_liability", range(2109001, 2109999)),
    AccountPurpose.EMPLOYEES_BALANCE: ("asset", "current_asset", range(1309001, 1309999)),
}
def _account_item(row: dict) -> CatalogItem:
    sub = row.get("sub_type") or ""
    return CatalogItem(kind=CatalogKind.ACCOUNTS, remote_id=str(row["id"]), name=row["name"], code=row.get("code", ""),
                       classification=CLASSIFICATION.get(row["type"], row["type"].upper()),
                       active=row.get("is_active", True),
                       extra={"sub_classification": SUB_CLASSIFICATION.get(sub, sub.upper()), "sub_type": sub,
                              "is_group": row.get("is_group", False),
                              "name_ar": row.get("name_ar", "")})


def _category_item(row: dict) -> CatalogItem:
    gl = row.get("account") or {}
    return CatalogItem(kind=CatalogKind.ACCOUNTS, remote_id=schema.category_remote_id(row["id"]), name=row["name"],
                       code=row.get("code", ""), classification="EXPENSE", active=row.get("is_active", True),
                       extra={"expense_category": True, "gl_account_id": row.get("account_id"),
                              "gl_account": gl.get("code", ""), "name_ar": row.get("name_ar", "")})


def _bank_item(row: dict) -> CatalogItem:
    return CatalogItem(kind=CatalogKind.BANK_ACCOUNTS, remote_id=str(row["id"]), name=row["name"],
                       classification="BANK", active=row.get("is_active", True),
                       extra={"account": str(row["account_id"]), "currency": row.get("currency", ""),
                              "bank_name": row.get("bank_name", "")})


def _document(reference: str, row: dict) -> RemoteDocument:
    return RemoteDocument(reference=reference, external_id=str(row["id"]), status=row["status"],
                          amount=str(row.get("total_amount", "")), live=schema.is_live(row))


class MoonErpConnector(Connector):
    system = "moon_erp"
    label = "Moon ERP"
    reads_back = True
    # Moon ERP runs one host per company; the contract names only `moon-erp.test` (vendor-apis/moon-erp.md).

    def __init__(self, connection):
        super().__init__(connection)
        self.client = MoonClient(connection)

    # check / catalog ----------------------------------------------------------------------
    def me(self) -> dict:
        return self.client.call("GET", "/api/user").body["data"]

    def check(self) -> CheckResult:
        me = self.me()
        company = me["company"]
        with transaction.atomic():
            row = Connection.objects.select_for_update().get(pk=self.connection.pk)
            # Setup is where Moon's rate default is made explicit (and visible in the admin).
            row.settings = {**with_moon_defaults(row.settings), "company_id": company["id"],
                            "company_currency": company["currency"]}
            row.save(update_fields=["settings", "updated_at"])
        self.connection.settings = row.settings
        missing = [p for p in REQUIRED_PERMISSIONS if p not in me.get("permissions", [])]
        detail = f"company {company['id']}, currency {company['currency']}, user {me.get('email', '')}"
        if missing:
            return CheckResult(ok=False, organization_name=company["name"],
                               detail=f"{detail}; the token lacks {', '.join(missing)}")
        return CheckResult(ok=True, organization_name=company["name"], detail=detail)

    def company_currency(self) -> str:
        currency = MoonErpSettings.of(self.connection).company_currency
        if not currency:
            currency = self.me()["company"]["currency"]
            self.connection.settings = {**self.connection.settings, "company_currency": currency}
        return currency

    offers_preflight = True
    # Moon ERP's API (vendor-apis/moon-erp.md) creates expenses only, and has no journal or bank
    # transaction endpoint: card fundings, unloads and reimbursements are booked in Moon by hand.
    supported_kinds = frozenset({"expense", "reversal"})
    unsupported_reason = ("Moon ERP's API has no journal or bank-transaction endpoint: book card fundings, unloads "
                          "and reimbursements in Moon ERP by hand")

    def preflight_metadata(self):
        from ..preflight import metadata_from_catalog
        return metadata_from_catalog(self, postable=lambda item: not item.extra.get("is_group", False))

    def catalog(self, kind: CatalogKind) -> list[CatalogItem]:
        kind = CatalogKind(kind)
        api = API
        if kind is CatalogKind.ACCOUNTS:
            accounts = [_account_item(r) for r in self.client.list_all(f"{api}/accounts") if not r.get("is_group")]
            return accounts + self.expense_categories()
        if kind is CatalogKind.BANK_ACCOUNTS:
            return [_bank_item(r) for r in self.client.list_all(f"{api}/bank-accounts")]
        if kind is CatalogKind.TAX_RATES:
            return [CatalogItem(kind=kind, remote_id=str(r["id"]), name=r["name"], classification="TAX",
                                active=r.get("is_active", True), extra={"rate": r["rate"]})
                    for r in self.client.list_all(f"{api}/tax-rates")]
        if kind is CatalogKind.DIMENSIONS:
            return [CatalogItem(kind=kind, remote_id=str(r["id"]), name=r["name"], code=r.get("code", ""),
                                classification=dim, active=r.get("is_active", True))
                    for path, dim in (("cost-centers", "cost_center"), ("branches", "branch"))
                    for r in self.client.list_all(f"{api}/{path}")]
        if kind is CatalogKind.CONTACTS:
            return [CatalogItem(kind=kind, remote_id=str(r["id"]), name=r["name"], classification=r.get("type", ""),
                                active=r.get("is_active", True), extra={"name_ar": r.get("name_ar", "")})
                    for r in self.client.list_all(f"{api}/business-partners")]
        if kind is CatalogKind.CURRENCIES:
            # No currencies endpoint: the company's currency (the only one expenses book in) plus banks'.
            base = self.company_currency()
            codes = {base} | {r.get("currency") for r in self.client.list_all(f"{api}/bank-accounts")}
            return [CatalogItem(kind=kind, remote_id=c, name=c, code=c, extra={"base": c == base})
                    for c in sorted(c for c in codes if c)]
        raise ValueError(f"unknown catalog kind {kind}")

    def expense_categories(self) -> list[CatalogItem]:
        return [_category_item(r) for r in self.client.list_all(f"{API}/transaction-categories", type="expense")]

    # ensure_account -----------------------------------------------------------------------
    def ensure_account(self, spec: AccountSpec) -> CatalogItem:
        name = spec.name
        if spec.purpose is AccountPurpose.FUNDING_BANK:
            def find():
                return next((_bank_item(r) for r in self.client.list_all(f"{API}/bank-accounts")
                             if r["name"] == name), None)
            payload = {"name": name, "currency": spec.currency or self.company_currency()}
            return find() or self._create_or_find(find, f"{API}/bank-accounts", payload, _bank_item)
        kind, sub_type, codes = ACCOUNT_SHAPES[spec.purpose]

        def find():
            return next((_account_item(r) for r in self.client.list_all(f"{API}/accounts", type=kind)
                         if r["name"] == name and not r.get("is_group")), None)
        found = find()
        if found:
            return found
        used = {r["code"] for r in self.client.list_all(f"{API}/accounts")}
        payload = {"code": next(str(c) for c in codes if str(c) not in used), "name": name, "type": kind,
                   "sub_type": sub_type}
        return self._create_or_find(find, f"{API}/accounts", payload, _account_item)

    def _create_or_find(self, find, path, payload, to_item) -> CatalogItem:
        try:
            return to_item(self.client.post(path, payload).body["data"])
        except OutcomeUnknown:
            # No idempotency key: whether it was created is answered by looking, never by re-sending blind.
            return find() or to_item(self.client.post(path, payload).body["data"])

    # push ---------------------------------------------------------------------------------
    def _payload(self, entry: AccountingEntry) -> tuple[dict, schema.Expected]:
        try:
            return schema.expense_payload(entry, company_currency=self.company_currency(),
                                          card_account=self.connection.employees_balance_account,
                                          base_currency=self.connection.organization.base_currency)
        except schema.UnsupportedEntry as exc:
            raise Permanent(str(exc), code=exc.code, field=exc.field) from exc

    def preview(self, entry: AccountingEntry) -> dict:
        """The expense `push` would create (dry run); the company currency is asked for once."""
        payload, _expected = self._payload(entry)
        return plain_payload({"method": "POST", "path": EXPENSES, "body": payload})

    def push(self, entry: AccountingEntry, idempotency_key: str) -> PushResult:
        before = self.client.calls
        payload, expected = self._payload(entry)
        # No reference filter: a lookup lists the whole day, so it is made only when it can find
        # something, i.e. when an earlier attempt with this key may have written to Moon. A worker
        # killed mid-call left its in-flight row, so the draft it may have created is found and
        # completed here, not duplicated (the engine's own lookup treats a draft as not booked).
        row = self._find_one(entry.reference, payload["date"]) if self.client.wrote_before(idempotency_key) else None
        replayed = row is not None
        if row is None:
            row, replayed = self._create(entry.reference, payload, idempotency_key)
        warnings: list[str] = []
        notes: list[str] = []
        if row["status"] == "draft":
            if replayed and self._differs(payload, row):
                row = self.client.call("PUT", f"{EXPENSES}/{row['id']}", json_body=payload).body["data"]
            wrong = schema.mismatches(expected, row, self.company_currency(), tolerance=self._tolerance())
            if wrong:
                self._discard_draft(row)
                field = wrong[0][0]
                raise Permanent(f"{row['document_number']}: " + "; ".join(text for _, text in wrong)
                                + " (draft deleted, nothing booked)", code="amount_mismatch", field=field)
            self._approve(row, idempotency_key)
            # A difference the connection's tolerance accepts was accepted by a person: a note.
            notes += [f"{row['document_number']}: {text} (within the connection's tolerance)"
                      for _, text in schema.mismatches(expected, row, self.company_currency())]
        else:
            # Already approved by an earlier attempt: report a difference, it is booked already.
            warnings += [f"{row.get('document_number')}: {text}"
                         for _, text in schema.mismatches(expected, row, self.company_currency())]
        return PushResult(external_id=str(row["id"]), replayed=replayed, calls=self.client.calls - before,
                          warnings=tuple(warnings), notes=tuple(notes),
                          document_number=str(row.get("document_number") or ""))

    def _tolerance(self) -> Decimal:
        # Moon computes tax on the net (amount × rate), so a tax-inclusive gross is not always
        # reachable to the minor unit (about 13% of 15%-VAT SAR amounts land half a halala off).
        # Strict by default: a person may accept such differences per connection.
        return MoonErpSettings.of(self.connection).amount_tolerance

    def _create(self, reference: str, payload: dict, key: str) -> tuple[dict, bool]:
        last: OutcomeUnknown | None = None
        for _ in range(MAX_RESOLUTIONS):
            try:
                return self.client.post(EXPENSES, payload, key=key).body["data"], False
            except OutcomeUnknown as exc:
                last = exc
                row = self._find_one(reference, payload["date"])
                if row is not None:
                    return row, True
        raise last

    def _approve(self, row: dict, key: str) -> None:
        """A lost answer here is left to the caller as OutcomeUnknown: find_by_reference then shows
        the expense approved (booked) or still a draft (not live, so the push is repeated and this
        approval re-sent: approving is safe to repeat once we know it is a draft)."""
        try:
            self.client.post(f"{EXPENSES}/{row['id']}/approve", key=key)
        except PeriodClosed:
            # Locked after the draft was made: nothing was booked, and no draft may linger there.
            self._discard_draft(row)
            raise
        except Permanent as exc:
            if exc.code != "invalid_state":
                raise
            # Approved meanwhile (a concurrent or earlier attempt)? Then this one is done too.
            current = self.client.call("GET", f"{EXPENSES}/{row['id']}").body["data"]
            if current["status"] != "approved":
                raise

    def _discard_draft(self, row: dict) -> None:
        try:
            self.client.call("DELETE", f"{EXPENSES}/{row['id']}")
        except Permanent as exc:
            if exc.status != 404:
                raise

    @staticmethod
    def _differs(payload: dict, row: dict) -> bool:
        for key, value in payload.items():
            theirs = row.get(key)
            if key == "amount":
                if Decimal(str(theirs)) != Decimal(value):
                    return True
            elif theirs != value:
                return True
        return False

    # find_by_reference ------------------------------------------------------------------
    def _find_one(self, reference: str, on: str) -> dict | None:
        rows = self.client.list_all(EXPENSES, date_from=on, date_to=on)
        return self._best(reference, rows)

    @staticmethod
    def _best(reference: str, rows) -> dict | None:
        mine = [r for r in rows if schema.holds_reference(r, reference) and r["status"] != "cancelled"
                and not r.get("deleted_at")]
        # An approved one wins over a draft; among equals the oldest (the first we created).
        mine.sort(key=lambda r: (r["status"] != "approved", r["id"]))
        return mine[0] if mine else None

    def find_by_reference(self, references: Sequence[str]) -> dict[str, RemoteDocument]:
        # Moon reverses by cancelling the original, so nothing is ever created under a reversal's
        # own reference (`<reference>-R`): it is never found, and must not cost a ledger listing.
        refs = [ref for ref in dict.fromkeys(references) if not ref.endswith(REVERSAL_SUFFIX)]
        if not refs:
            return {}
        rows: dict[int, dict] = {}
        for first, last in self._windows(refs):
            rows.update((row["id"], row) for row in self.client.list_all(EXPENSES, date_from=first, date_to=last))
        found: dict[str, RemoteDocument] = {}
        for ref in refs:
            row = self._best(ref, rows.values())
            if row:
                found[ref] = _document(ref, row)
        return found

    def _windows(self, refs: list[str]) -> list[tuple[str | None, str | None]]:
        """The date ranges to list so that every reference's expense is seen."""
        dates = self.client.sent_dates(EXPENSES, refs)
        known = sorted({on for ref in refs for on in dates.get(ref, ())})
        if any(not dates.get(ref) for ref in refs):
            # Nothing recorded for a reference (never sent, or older than the call log keeps):
            # only the whole ledger can answer for it, and that listing answers for the rest too.
            return [(None, None)]
        if len(known) <= PER_DAY_LISTINGS:
            return [(on, on) for on in known]
        # More dates: one listing of the span, which pages through no more than the whole ledger
        # and usually far fewer calls than a day each.
        return [(known[0], known[-1])]

    # read_back ----------------------------------------------------------------------------
    def read_back(self, *, date_from: date | None = None, date_to: date | None = None,
                  references: Sequence[str] = ()) -> Iterator[ReadBackPage]:
        """Expenses in the range (or holding one of `references`), then the range's journal
        entries posted by hand; one page per Moon request."""
        currency = self.company_currency()
        refs = [ref for ref in dict.fromkeys(references) if not ref.endswith(REVERSAL_SUFFIX)]
        if references and not refs:
            return
        first, last = (date_from.isoformat() if date_from else None), (date_to.isoformat() if date_to else None)
        windows = self._windows(refs) if refs and not (first or last) else [(first, last)]
        seen: set[int] = set()
        held: dict[int, VendorDocument] = {}     # cancelled: settled against the reversals below
        for since, until in windows:
            for rows in self.client.pages(EXPENSES, date_from=since, date_to=until):
                docs = []
                for row in rows:
                    doc = readback.expense_document(row, currency)
                    if row["id"] not in seen and (not refs or doc.reference in refs):
                        seen.add(row["id"])
                        if doc.status == "cancelled" and not refs:
                            held[row["id"]] = doc
                        else:
                            docs.append(doc)
                yield ReadBackPage(documents=tuple(docs), requests=1)
        if refs:
            return   # a journal posted by hand carries no reference of ours
        yield self._cancellations(held, first, last, currency)
        for rows in self.client.pages(f"{API}/journal-entries", source_type="manual", date_from=first, date_to=last):
            yield ReadBackPage(documents=tuple(readback.manual_document(r, currency) for r in rows), requests=1)

    def _cancellations(self, held: dict[int, VendorDocument], first, last, currency: str) -> ReadBackPage:
        """The range's cancelled expenses as they stand, and the reversals booked in the range for
        expenses outside it (readback.settle_cancellations): one listing, plus one read per such
        expense (Moon cancels into the open period once an expense's own is closed)."""
        before = self.client.calls
        reversals = [row for rows in self.client.pages(f"{API}/journal-entries", reversals=1, date_from=first)
                     for row in rows]
        docs, outside = readback.settle_cancellations(held, reversals, first=first, last=last)
        for expense_id, journal in outside.items():
            expense = self.client.call("GET", f"{EXPENSES}/{expense_id}").body["data"]
            docs.append(readback.reversing_document(expense, journal, currency))
        return ReadBackPage(documents=tuple(docs), requests=self.client.calls - before)

    # reverse ------------------------------------------------------------------------------
    def reverse(self, external_id: str, entry: AccountingEntry, idempotency_key: str) -> PushResult:
        """Moon's way: cancel the approved expense (Moon posts the mirror journal entry). A draft
        (never booked) is deleted; already cancelled or deleted counts as done. Moon cancels on the
        expense's own date while that period is open, and on the day of the cancellation once it
        is closed (the mirror entry lands in the open period; read-back pairs the two); a day that
        is itself closed is PeriodClosed, handled by the connection's policy."""
        before = self.client.calls

        def done(*notes):
            return PushResult(external_id=external_id, calls=self.client.calls - before, notes=notes)

        try:
            row = self.client.call("GET", f"{EXPENSES}/{external_id}").body["data"]
        except Permanent as exc:
            if exc.status != 404:
                raise
            return done("already deleted in Moon ERP")
        if row["status"] == "cancelled":
            return done(f"{row['document_number']} was already cancelled")
        if row["status"] == "draft":
            self._discard_draft(row)
            return done(f"{row['document_number']} was a draft (never booked); deleted")
        try:
            self.client.post(f"{EXPENSES}/{external_id}/cancel")
        except Permanent as exc:
            if exc.code != "invalid_state":
                raise
            if self.client.call("GET", f"{EXPENSES}/{external_id}").body["data"]["status"] != "cancelled":
                raise
        return done()
