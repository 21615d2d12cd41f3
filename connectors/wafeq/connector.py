"""The Wafeq connector: the six verbs of `connectors.base.Connector` over `WafeqClient`."""

import logging
import uuid
from collections.abc import Iterator, Sequence
from datetime import date
from decimal import Decimal

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
from ..entry import AccountingEntry, EntryKind
from ..errors import PeriodClosed, Permanent
from ..receipts import receipt_files
from . import schema
from .client import WafeqClient
from .readback import WafeqReadBack
from .settings import WafeqSettings

log = logging.getLogger(__name__)
NAMESPACE = uuid.UUID("6f1c1f0e-3b7a-4f57-9a47-7c0b8f1d2e55")

# purpose → (classification, sub_classification, account_type, code range)
ACCOUNT_SHAPES = {
    AccountPurpose.EMPLOYEE_CLAIMS: ("LIABILITY", "CURRENT_LIABILITY", "OTHER_CURRENT_LIABILITIES", range(2190, 2300)),
    AccountPurpose.EMPLOYEES_BALANCE: ("ASSET", "CURRENT_ASSET", "EMPLOYEE_ADVANCE", range(1390, 1500)),
}
DEFAULT_NAMES = {
    AccountPurpose.EMPLOYEE_CLAIMS: "Expensico – Employee Claims",
    AccountPurpose.EMPLOYEES_BALANCE: "Expensico – Employees Balance",
    AccountPurpose.FUNDING_BANK: "Expensico Bank Account",
}


def _account_item(row: dict) -> CatalogItem:
    return CatalogItem(kind=CatalogKind.ACCOUNTS, remote_id=row["id"], name=row["name_en"], code=row["account_code"],
                       classification=row["classification"], active=not row.get("is_locked", False),
                       extra={"sub_classification": row["sub_classification"], "name_ar": row.get("name_ar", ""),
                              "is_payment_enabled": row["is_payment_enabled"], "account_type": row.get("account_type"),
                              "is_posting": row.get("is_posting", True)})


def _bank_item(row: dict) -> CatalogItem:
    return CatalogItem(kind=CatalogKind.BANK_ACCOUNTS, remote_id=row["id"], name=row["name"],
                       classification=row["sub_classification"],
                       extra={"account": row["account"], "currency": row["currency"]})


class WafeqConnector(Connector):
    system = "wafeq"
    label = "Wafeq"
    reads_back = True
    # API and OAuth (authorize/token/revoke) hosts, vendor-apis/wafeq.md §1 and §2.2.

    _rates: dict[str, Decimal] | None

    def __init__(self, connection):
        super().__init__(connection)
        self.client = WafeqClient(connection)
        self._rates = None     # Wafeq's tax rates, read at most once (see _tax_rates)

    # check / catalog ----------------------------------------------------------------------
    def organization(self) -> dict:
        return self.client.call("GET", "/organization/").body

    def check(self) -> CheckResult:
        org = self.organization()
        base = org["financial_settings"].get("base_currency", "")
        self.learned = {"base_currency": base, "wafeq_organization_id": org["id"]}
        return CheckResult(ok=True, organization_name=org["name"]["en"],
                           detail=f"organization {org['id']}, base currency {base}")

    offers_preflight = True
    carries_bank_fx_line = False   # a ledger transaction has one counterpart account

    def preflight_metadata(self):
        # Wafeq lists no enabled currencies (any currency books with a rate): not checked.
        from ..preflight import metadata_from_catalog
        return metadata_from_catalog(self, currencies=False,
                                     postable=lambda item: item.extra.get("is_posting", True) is not False)

    def catalog(self, kind: CatalogKind) -> list[CatalogItem]:
        kind = CatalogKind(kind)
        if kind is CatalogKind.ACCOUNTS:
            return [_account_item(r) for r in self.client.list_all("/accounts/")]
        if kind is CatalogKind.BANK_ACCOUNTS:
            return [_bank_item(r) for r in self.client.list_all("/bank-accounts/")]
        if kind is CatalogKind.TAX_RATES:
            return [CatalogItem(kind=kind, remote_id=r["id"], name=r["name"], classification=r["tax_type"],
                                extra={"rate": str(r["rate"]), "friendly_name": r.get("friendly_name", "")})
                    for r in self.client.list_all("/tax-rates/")]
        if kind is CatalogKind.CONTACTS:
            return [CatalogItem(kind=kind, remote_id=r["id"], name=r["name"], extra={"country": r.get("country", "")})
                    for r in self.client.list_all("/contacts/")]
        if kind is CatalogKind.DIMENSIONS:
            items = [CatalogItem(kind=kind, remote_id=r["id"], name=r["name_en"], classification="cost_center",
                                 active=r.get("is_active", True)) for r in self.client.list_all("/cost-centers/")]
            items += [CatalogItem(kind=kind, remote_id=r["id"], name=r["name"], classification="project")
                      for r in self.client.list_all("/projects/")]
            items += [CatalogItem(kind=kind, remote_id=r["id"], name=r["name"]["en"], classification="branch",
                                  active=r.get("is_active", True)) for r in self.client.list_all("/branches/")]
            return items
        if kind is CatalogKind.CURRENCIES:
            # No currencies endpoint: the base currency plus the bank accounts' currencies.
            base = self.organization()["financial_settings"].get("base_currency", "")
            codes = {base} | {r["currency"] for r in self.client.list_all("/bank-accounts/")}
            return [CatalogItem(kind=kind, remote_id=c, name=c, code=c, extra={"base": c == base})
                    for c in sorted(codes) if c]
        raise ValueError(f"unknown catalog kind {kind}")

    def expense_accounts(self) -> list[CatalogItem]:
        return [_account_item(r) for r in self.client.list_all("/accounts/", classification="EXPENSE")]

    # ensure_account ---------------------------------------------------------------------
    def ensure_account(self, spec: AccountSpec) -> CatalogItem:
        name = spec.name or DEFAULT_NAMES[spec.purpose]
        key = str(uuid.uuid5(NAMESPACE, f"{self.connection.pk}:{spec.purpose}:{name}"))
        if spec.purpose is AccountPurpose.FUNDING_BANK:
            for row in self.client.list_all("/bank-accounts/"):
                if row["name"] == name:
                    return _bank_item(row)
            currency = spec.currency or self.organization()["financial_settings"]["base_currency"]
            row = self.client.create("/bank-accounts/", {"name": name, "currency": currency,
                                                         "sub_classification": "BANK"}, key).body
            return _bank_item(row)
        classification, sub, account_type, codes = ACCOUNT_SHAPES[spec.purpose]
        # No sub_classification filter exists server-side: filter after classification=…
        rows = self.client.list_all("/accounts/", classification=classification)
        for row in rows:
            if row["sub_classification"] == sub and row["name_en"] == name:
                if not row["is_payment_enabled"]:
                    row = self.client.call("PATCH", f"/accounts/{row['id']}/", json_body={"is_payment_enabled": True},
                                           idempotency_key=key + "-enable").body
                return _account_item(row)
        used = {r["account_code"] for r in self.client.list_all("/accounts/")}
        code = next(str(c) for c in codes if str(c) not in used)
        row = self.client.create("/accounts/", {
            "account_code": code, "name_en": name, "classification": classification, "sub_classification": sub,
            "account_type": account_type, "is_payment_enabled": True, "external_id": f"expensico:{spec.purpose}",
        }, key).body
        return _account_item(row)

    # push ---------------------------------------------------------------------------------
    def _request(self, entry: AccountingEntry, attachments) -> tuple[str, dict]:
        """(path, body) of the request that books this entry; `attachments` yields uploaded ids."""
        try:
            if entry.kind is EntryKind.EXPENSE:
                base = (WafeqSettings.of(self.connection).base_currency
                        or self.connection.organization.base_currency)
                if schema.is_single_expense(entry):
                    return "/expenses/", schema.expense_payload(entry, attachments=attachments(),
                                                                base_currency=base, tax_rates=self._tax_rates(entry))
                return "/manual-journals/", schema.manual_journal_payload(entry, attachments=attachments(),
                                                                          base_currency=base)
            if entry.kind is EntryKind.LEDGER_BANK_TRANSACTION:
                return (f"/bank-accounts/{self._bank(entry)}/ledger-transactions/",
                        schema.ledger_transaction_payload(entry))
            if entry.kind is EntryKind.STATEMENT_TRANSACTION:
                return (f"/bank-accounts/{self._bank(entry)}/statement-transactions/",
                        schema.statement_transaction_payload(entry))
            raise schema.UnsupportedEntry(f"push does not take {entry.kind}; use reverse()", "kind")
        except schema.UnsupportedEntry as exc:
            raise Permanent(str(exc), code="unsupported_entry", field=exc.field) from exc

    def _tax_rates(self, entry: AccountingEntry) -> dict[str, Decimal] | None:
        """Wafeq's tax rates (id → fraction), read once, only for a tax-exclusive expense: whether it
        can go exclusive depends on the VAT Wafeq will compute (schema.exclusive)."""
        if dict(entry.extra).get("tax_treatment") != "exclusive":
            return None
        if self._rates is None:
            self._rates = {r["id"]: Decimal(str(r["rate"])) for r in self.client.list_all("/tax-rates/")}
        return self._rates

    def preview(self, entry: AccountingEntry) -> dict:
        """What `push` would send (dry run): nothing is written (a tax-exclusive expense reads
        Wafeq's tax rates); receipts show as the files to upload."""
        path, body = self._request(entry, lambda: [f"upload:{a.filename}" for a in entry.attachments])
        return plain_payload({"path": path, "body": body})

    def push(self, entry: AccountingEntry, idempotency_key: str) -> PushResult:
        before = self.client.calls
        warnings: list[str] = []
        path, payload = self._request(entry, lambda: self._upload_attachments(entry, warnings))
        resp = self.client.create(path, payload, idempotency_key)
        return PushResult(external_id=resp.body["id"], request_id=resp.request_id,
                          replayed=resp.header("X-Wafeq-Idempotent-Replayed").lower() == "true",
                          calls=self.client.calls - before, warnings=tuple(warnings))

    def _bank(self, entry: AccountingEntry) -> str:
        bank = entry.bank_account or self.connection.funding_bank_account
        if not bank:
            raise schema.UnsupportedEntry("no funding bank account configured", "bank_account")
        return bank

    def _upload_attachments(self, entry: AccountingEntry, warnings: list[str]) -> list[str]:
        return [self.client.upload(att.filename, data, att.content_type)["id"]
                for att, data in receipt_files(entry, warnings)]

    # find_by_reference ------------------------------------------------------------------
    def find_by_reference(self, references: Sequence[str]) -> dict[str, RemoteDocument]:
        found: dict[str, RemoteDocument] = {}
        remaining = list(dict.fromkeys(references))
        for path in ("/expenses/", "/manual-journals/"):
            for ref in list(remaining):
                rows = self.client.list_all(path, reference=ref)
                if rows:
                    row = rows[-1]
                    found[ref] = RemoteDocument(reference=ref, external_id=row["id"],
                                                status=row.get("status", "POSTED"), amount=str(row.get("amount", "")))
                    remaining.remove(ref)
            if not remaining:
                return found
        bank = self.connection.funding_bank_account
        if bank:
            for sub in ("ledger-transactions", "statement-transactions"):
                for row in self.client.list_all(f"/bank-accounts/{bank}/{sub}/"):
                    ref = row.get("reference")
                    if ref in remaining:
                        found[ref] = RemoteDocument(reference=ref, external_id=row["id"], status=sub,
                                                    amount=str(row["amount"]))
                        remaining.remove(ref)
        return found

    # read_back ------------------------------------------------------------------------
    def read_back(self, *, date_from: date | None = None, date_to: date | None = None,
                  references: Sequence[str] = ()) -> Iterator[ReadBackPage]:
        base = WafeqSettings.of(self.connection).base_currency or self.connection.organization.base_currency
        reader = WafeqReadBack(self.client, bank_account=self.connection.funding_bank_account or None,
                               base_currency=base)
        return reader.pages(date_from=date_from, date_to=date_to, references=references)

    # reverse --------------------------------------------------------------------------
    def reverse(self, external_id: str, entry: AccountingEntry, idempotency_key: str) -> PushResult:
        """Wafeq's way: mark the expense as draft (its journal leaves the ledger), then delete it.
        Bank transactions and manual journals are deleted. Already gone counts as done. A document
        dated on or before the lock date cannot be touched: it is undone by a reversing manual
        journal dated as the reversal entry (the engine dates it in an open period)."""
        before = self.client.calls
        try:
            return self._undo(external_id, entry, idempotency_key, before)
        except PeriodClosed:
            if external_id.startswith(("bt_", "bst_")):
                raise     # a bank account is no journal account: the engine holds it for review
        if not self.client.list_all("/manual-journals/", reference=entry.reference):
            base = WafeqSettings.of(self.connection).base_currency or self.connection.organization.base_currency
            self.client.create("/manual-journals/", schema.manual_journal_payload(entry, base_currency=base),
                               idempotency_key)
        return PushResult(external_id=external_id, calls=self.client.calls - before,
                          notes=("the original lies in Wafeq's locked period: reversed by a manual journal",))

    def _undo(self, external_id: str, entry: AccountingEntry, idempotency_key: str, before: int) -> PushResult:
        if external_id.startswith(("bt_", "bst_")):
            sub = "ledger-transactions" if external_id.startswith("bt_") else "statement-transactions"
            bank = entry.bank_account or self.connection.funding_bank_account
            self._delete(f"/bank-accounts/{bank}/{sub}/{external_id}/", idempotency_key)
        elif external_id.startswith("mj_"):
            self._delete(f"/manual-journals/{external_id}/", idempotency_key)
        else:
            try:
                row = self.client.call("GET", f"/expenses/{external_id}/").body
            except Permanent as exc:
                if exc.status != 404:
                    raise
                return PushResult(external_id=external_id, calls=self.client.calls - before,
                                  notes=("already deleted in Wafeq",))
            if row["status"] == "POSTED":
                self.client.call("POST", f"/expenses/{external_id}/mark-as-draft/")
            self._delete(f"/expenses/{external_id}/", idempotency_key)
        return PushResult(external_id=external_id, calls=self.client.calls - before)

    def _delete(self, path: str, key: str) -> None:
        try:
            self.client.call("DELETE", path, idempotency_key=key)
        except Permanent as exc:
            if exc.status != 404:
                raise
