"""Workday Financial Management, direct SOAP: the six verbs over `WorkdayClient`.

Connection: `base_url` is the service endpoint (`…/ccx/service/{tenant}/Financial_Management/v30.0`),
`client_id` the integration user (tenant appended when missing), `api_key` its password (the
field the setup flow treats as "has credentials"; `client_secret` is read as a fallback).
`settings`: company (Company_Reference_ID, required), account_set ("Standard"), ledger_type
("Actuals"), journal_source ("Integration"), submit (true), auto_complete (true),
default_cost_center ("").
"""

from collections.abc import Iterator, Sequence
from datetime import date, timedelta

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
from ..entry import AccountingEntry, EntryKind
from ..errors import PeriodClosed, Permanent
from ..periods import ending_with_month
from ..receipts import receipt_files
from . import attachments, readback, schema
from .client import WorkdayClient
from .settings import WorkdaySettings

# The export engine names a reversal `<reference>-R`; a posted journal whose reversal journal exists
# is no longer live. Kept in readback.py so connectors never import exports.
REVERSAL_SUFFIX = readback.REVERSAL_SUFFIX
CLASSIFICATION = {"Expense": "EXPENSE", "Asset": "ASSET", "Cash": "ASSET", "Liability": "LIABILITY",
                  "Equity": "EQUITY", "Revenue": "REVENUE"}
# What the admin setup flow filters its account choices on.
SUB_CLASSIFICATION = {"Liability": "CURRENT_LIABILITY", "Asset": "CURRENT_ASSET", "Cash": "BANK"}
ACCOUNT_SHAPES = {  # purpose → (Ledger_Account_Type_ID, identifier range)
    AccountPurpose.EMPLOYEE_CLAIMS: ("Liability", range(2190, 2300)),
    AccountPurpose.EMPLOYEES_BALANCE: ("Asset", range(1390, 1500)),
    AccountPurpose.FUNDING_BANK: ("Cash", range(1090, 1100)),
}
DIMENSION_OPERATIONS = (  # operation, result list, reference element, data element, name field, worktag ID type
    ("Get_Cost_Centers", "Cost_Center", "Cost_Center_Reference", "Cost_Center_Data", None, "Cost_Center_Reference_ID"),
    ("Get_Resource_Categories", "Resource_Category", "Resource_Category_Reference", "Resource_Category_Data",
     "Resource_Category_Name", "Spend_Category_ID"),
    ("Get_Basic_Projects", "Basic_Project", "Basic_Project_Reference", "Basic_Project_Data", "Project_Name",
     "Project_ID"),
    ("Get_Regions", "Region", "Region_Reference", "Region_Data", None, "Region_Reference_ID"),
)
PAGE_SIZE = 100
MAX_PAGES = 200


def _one(value):
    return value[0] if isinstance(value, list) else value


def _id(ref, id_type: str) -> str:
    for item in (ref.ID if ref is not None else None) or []:
        if item.type == id_type:
            return item._value_1
    return ""


def _exceptions(resp) -> tuple[str, ...]:
    """`Exceptions_Response_Data` of an accepted journal (workday-soap.md B4): Workday booked it but
    has something to say, so a person must look."""
    out = []
    for group in resp.Exceptions_Response_Data or []:
        for data in group.Exceptions_Data or []:
            for item in data.Exception_Data or []:
                if (item.Message or "").strip():
                    out.append(f"Workday {(item.Classification or 'Warning').strip().lower()}: {item.Message.strip()}")
    return tuple(out)


def _settings(connection) -> schema.JournalSettings:
    s = WorkdaySettings.of(connection)
    return schema.JournalSettings(
        company=s.company, account_set=s.account_set, ledger_type=s.ledger_type, journal_source=s.journal_source,
        submit=s.submit, auto_complete=s.auto_complete, default_cost_center=s.default_cost_center,
        version=s.version, company_currency=s.company_currency or connection.organization.base_currency,
        base_currency=connection.organization.base_currency)


class WorkdayConnector(Connector):
    system = "workday"
    label = "Workday (SOAP)"
    reads_back = True
    # A journal line's Tax_Detail_Data names a tax code but holds no tax amount (XSD): the tax
    # goes on its own line to the tax account.
    carries_line_tax = False
    # Tenants live on data-centre hosts such as wd2-impl-services1.workday.com or *.myworkday.com.

    def __init__(self, connection):
        super().__init__(connection)
        self.client = WorkdayClient(connection)
        self.settings = _settings(connection)
        # Accounting days already read by dates (read_back by references), day → documents. A
        # connector lives for one verification or reconciliation run, and so does this.
        self._days_read: dict[date, list[VendorDocument]] = {}

    # check / catalog ------------------------------------------------------------------
    def check(self) -> CheckResult:
        company = self.settings.company
        if not company:
            return CheckResult(ok=False, detail="settings.company (Company_Reference_ID) is not set")
        resp = self.client.call("Get_Workday_Companies", {"Request_References": [
            {"Company_Reference": [{"ID": [{"_value_1": company, "type": "Company_Reference_ID"}]}]}]})
        row = _one(_one(resp.Response_Data).Company)
        name = _one(row.Company_Data).Organization_Data.Organization_Name
        return CheckResult(ok=True, organization_name=name,
                           detail=f"company {company}, account set {self.settings.account_set}")

    def _paged(self, operation: str, data: dict, pick, *, count: int | None = None) -> list:
        return [item for items in self._pages(operation, data, pick, count=count) for item in items]

    def _pages(self, operation: str, data: dict, pick, *, count: int | None = None) -> Iterator[list]:
        """One list per request, `Page` by `Page` until `Total_Pages` (workday-soap.md B5)."""
        count = count or PAGE_SIZE
        for page in range(1, MAX_PAGES + 1):
            resp = self.client.call(operation, {**data, "Response_Filter": {"Page": page, "Count": count}})
            results = _one(resp.Response_Results)
            yield (pick(_one(resp.Response_Data)) or []) if resp.Response_Data is not None else []
            if results is None or page >= int(results.Total_Pages or 1):
                return
        raise Permanent(f"{operation}: Workday has more than {MAX_PAGES} pages of {count} for this request; "
                        f"narrow it (fewer references, a shorter period) before trying again",
                        code="too_many_pages", field=None)

    def ledger_accounts(self) -> list[dict]:
        account_set = self.settings.account_set
        sets = self._paged("Get_Account_Sets", {"Request_References": {"Account_Set_Reference": [
            {"ID": [{"_value_1": account_set, "type": "Account_Set_ID"}]}]}}, lambda d: d.Account_Set)
        rows = []
        for found in sets:
            data = _one(found.Account_Set_Data)
            for acc in data.Ledger_Account_Data or []:
                rows.append({"id": acc.Ledger_Account_Identifier, "name": acc.Ledger_Account_Name,
                             "type": _id(acc.Ledger_Account_Type_Reference, "Ledger_Account_Type_ID"),
                             "retired": bool(acc.Retired), "set": data.Account_Set_ID,
                             "set_name": data.Account_Set_Name})
        return rows

    @staticmethod
    def _account_item(row: dict, kind: CatalogKind = CatalogKind.ACCOUNTS) -> CatalogItem:
        remote_id = schema.account_id(row["set"], row["id"])
        return CatalogItem(kind=kind, remote_id=remote_id, name=row["name"], code=row["id"],
                           classification="BANK" if kind is CatalogKind.BANK_ACCOUNTS else
                           CLASSIFICATION.get(row["type"], row["type"].upper()),
                           active=not row["retired"],
                           extra={"account_set": row["set"], "ledger_account_type": row["type"], "account": remote_id,
                                  "sub_classification": SUB_CLASSIFICATION.get(row["type"], "")})

    offers_preflight = True
    unsettled_statuses = ("Draft", "Submitted")   # saved, or in the business process awaiting approval

    def preflight_metadata(self):
        """Workday tenants require a cost-centre worktag on expense accounts (the account posting
        rule this sandbox's tenant has too); a connection with a default cost centre always sends one."""
        from ..preflight import metadata_from_catalog
        rules = {"EXPENSE": ["Cost_Center_Reference_ID"]} if not self.settings.default_cost_center else {}
        return metadata_from_catalog(self, rules=rules)

    def dimension_key(self, kind: str) -> str:
        from ..worktags import worktag_type
        return worktag_type(kind) or kind

    def catalog(self, kind: CatalogKind) -> list[CatalogItem]:
        kind = CatalogKind(kind)
        if kind is CatalogKind.ACCOUNTS:
            return [self._account_item(r) for r in self.ledger_accounts()]
        if kind is CatalogKind.BANK_ACCOUNTS:
            return [self._account_item(r, kind) for r in self.ledger_accounts() if r["type"] == "Cash"]
        if kind is CatalogKind.TAX_RATES:
            return [CatalogItem(kind=kind, remote_id=r.Tax_Rate_Data.Tax_Rate_ID, name=r.Tax_Rate_Data.Tax_Rate_Name,
                                code=r.Tax_Rate_Data.Tax_Rate_ID, classification="transaction_tax_rate",
                                extra={"rate": str(r.Tax_Rate_Data.Tax_Rate)})
                    for r in self._paged("Get_Transaction_Tax_Rates", {}, lambda d: d.Tax_Rate)]
        if kind is CatalogKind.CONTACTS:
            return [CatalogItem(kind=kind, remote_id=r.Basic_Supplier_Data.Supplier_ID,
                                name=r.Basic_Supplier_Data.Supplier_Name, classification="supplier",
                                active=not r.Basic_Supplier_Data.Inactive)
                    for r in self._paged("Get_Basic_Suppliers", {}, lambda d: d.Basic_Supplier)]
        if kind is CatalogKind.DIMENSIONS:
            return self._dimensions()
        if kind is CatalogKind.CURRENCIES:
            resp = self.client.call("GetAll_Currencies", {})
            return [CatalogItem(kind=kind, remote_id=str(c.Currency_ID), name=c.Currency_Description or "",
                                code=str(c.Currency_ID), active=not c.Currency_Retired,
                                extra={"precision": int(c.Currency_Precision or 2)})
                    for c in resp.Currency_Data or []]
        raise ValueError(f"unknown catalog kind {kind}")

    def _dimensions(self) -> list[CatalogItem]:
        items = []
        for operation, attr, ref_attr, data_attr, name_field, id_type in DIMENSION_OPERATIONS:
            for row in self._paged(operation, {}, lambda d, a=attr: getattr(d, a)):
                remote_id = _id(getattr(row, ref_attr), id_type)
                data = getattr(row, data_attr)
                # Organisations (cost centres, regions) carry their name in Organization_Data.
                name = data[name_field] if name_field else data.Organization_Data.Organization_Name
                active = (not getattr(data, "Inactive", False)) if name_field else \
                    data.Organization_Data.Organization_Active is not False
                items.append(CatalogItem(kind=CatalogKind.DIMENSIONS, remote_id=remote_id, name=name or remote_id,
                                         code=remote_id, classification=f"worktag:{id_type}", active=active))
        return items

    # ensure_account -------------------------------------------------------------------
    def ensure_account(self, spec: AccountSpec) -> CatalogItem:
        account_type, identifiers = ACCOUNT_SHAPES[spec.purpose]
        kind = CatalogKind.BANK_ACCOUNTS if spec.purpose is AccountPurpose.FUNDING_BANK else CatalogKind.ACCOUNTS
        rows = self.ledger_accounts()
        for row in rows:
            if row["name"] == spec.name and row["type"] == account_type and not row["retired"]:
                return self._account_item(row, kind)
        used = {r["id"] for r in rows}
        identifier = next(str(c) for c in identifiers if str(c) not in used)
        account_set = self.settings.account_set
        set_name = next((r["set_name"] for r in rows), account_set)
        # Whether Put_Account_Set merges or replaces the account list is undocumented: sending the
        # whole list plus the new account is correct under either reading.
        accounts = [schema.ledger_account_data(r["id"], r["name"], r["type"]) | {"Retired": r["retired"]}
                    for r in rows if r["set"] == account_set]
        accounts.append(schema.ledger_account_data(identifier, spec.name, account_type))
        self.client.call("Put_Account_Set", {
            "Add_Only": False,
            "Account_Set_Reference": {"ID": [{"_value_1": account_set, "type": "Account_Set_ID"}]},
            "Account_Set_Data": {"Account_Set_ID": account_set, "Account_Set_Name": set_name,
                                 "Ledger_Account_Data": accounts}},
            idempotency_key=f"ensure:{account_set}:{identifier}")
        return self._account_item({"id": identifier, "name": spec.name, "type": account_type, "retired": False,
                                   "set": account_set}, kind)

    # push -----------------------------------------------------------------------------
    def push(self, entry: AccountingEntry, idempotency_key: str) -> PushResult:
        if entry.kind not in (EntryKind.EXPENSE, EntryKind.LEDGER_BANK_TRANSACTION):
            raise Permanent(f"push does not take {entry.kind}", code="unsupported_entry", field="kind")
        return self._submit(entry, idempotency_key)

    def _journal(self, entry: AccountingEntry, receipts=None) -> dict:
        """The request; `receipts` makes the Attachment_Data (called once the journal is known good)."""
        try:
            data = schema.journal_request(entry, self.settings)
        except schema.UnsupportedEntry as exc:
            raise Permanent(str(exc), code=exc.code, field=exc.field) from exc
        files = receipts() if receipts else []
        if files:
            data["Accounting_Journal_Data"]["Attachment_Data"] = files
        return data

    def preview(self, entry: AccountingEntry) -> dict:
        """The Submit_Accounting_Journal request `push` would send (dry run): no network; each
        receipt's File_Content is described, not read."""
        return plain_payload({"operation": "Submit_Accounting_Journal",
                              "request": self._journal(entry, lambda: attachments.described(entry))})

    def _submit(self, entry: AccountingEntry, idempotency_key: str) -> PushResult:
        before = self.client.calls
        notes: list[str] = []
        data = self._journal(entry, lambda: attachments.attachment_data(entry, receipt_files(entry, notes), notes))
        warnings = tuple(notes) + (() if self.settings.submit else ("saved as a draft journal in Workday (submit is off)",))
        try:
            resp = self.client.call("Submit_Accounting_Journal", data, idempotency_key=idempotency_key)
        except PeriodClosed as exc:
            # Workday's fault names no period; its ledger periods are months.
            raise ending_with_month(exc, entry.date) from exc
        except Permanent as exc:
            if exc.code != "duplicate":
                raise
            # Add_Only refused our id: an earlier attempt went through. Return that journal.
            found = self._journals([entry.reference])
            if entry.reference not in found:
                raise
            doc = found[entry.reference]
            if doc.status == "Canceled":
                raise Permanent(f"{entry.reference} exists in Workday but was canceled", code="canceled",
                                field="Accounting_Journal_ID") from None
            return PushResult(external_id=doc.external_id, replayed=True, calls=self.client.calls - before,
                              warnings=warnings, status=doc.status)
        wid = _id(resp.Accounting_Journal_Reference, "WID")
        status = ("Posted" if self.settings.auto_complete else "Submitted") if self.settings.submit else "Draft"
        return PushResult(external_id=wid, calls=self.client.calls - before, warnings=warnings + _exceptions(resp),
                          status=status)

    # find_by_reference ----------------------------------------------------------------
    def _get_journals(self, references: list[str], *, files: bool = False) -> list:
        """Batched lookup by Accounting_Journal_ID. v30 has no Skip_Non_Existing_Instances: unknown
        ids fault the request, listing every one of them, so one more request fetches the rest."""
        def query(refs):
            return self._paged("Get_Journals", {"Request_References": {"JournalEntryReference": [
                {"ID": [{"_value_1": r, "type": "Accounting_Journal_ID"}]} for r in refs]}, **readback.group(files)},
                lambda d: d.Journal_Entry)

        try:
            return query(references)
        except Permanent as exc:
            if not getattr(exc, "invalid_ids", None):
                raise
            known = [r for r in references if r not in set(exc.invalid_ids)]
        return query(known) if known else []

    def _journals(self, references: Sequence[str]) -> dict[str, RemoteDocument]:
        out = {}
        for journal in self._get_journals(list(dict.fromkeys(references))):
            ref, doc = self._remote(journal)
            out[ref] = doc
        return out

    @staticmethod
    def _remote(journal) -> tuple[str, RemoteDocument]:
        data = _one(journal.Journal_Entry_Data)
        ref = _id(journal.Journal_Entry_Reference, "Accounting_Journal_ID") or data.External_Reference_ID \
            or readback.reversal_reference(data)
        status = _id(data.Journal_Status_Reference, "Journal_Entry_Status_ID")
        return ref, RemoteDocument(reference=ref, external_id=_id(journal.Journal_Entry_Reference, "WID"),
                                   status=status, amount=str(data.Total_Ledger_Debits or ""),
                                   live=status != "Canceled" and data.Cancel_Reversed_By_Journal_Entry_Reference is None)

    def _by_wid(self, wids: Sequence[str], *, files: bool = False) -> list:
        return self._paged("Get_Journals", {"Request_References": {"JournalEntryReference": [
            {"ID": [{"_value_1": wid, "type": "WID"}]} for wid in wids]}, **readback.group(files)},
            lambda d: d.Journal_Entry)

    def _with_workday_reversals(self, references: Sequence[str], *, files: bool = False) -> list:
        """The journals holding these references as Accounting_Journal_ID and, for a `<reference>-R`
        none holds, the journal Workday made by reversing `<reference>` (the original's
        Cancel_Reversed_By_Journal_Entry_Reference): one more request only when there is one."""
        journals = self._get_journals(list(dict.fromkeys(references)), files=files)
        held = {self._remote(j)[0]: j for j in journals}
        missing = [r.removesuffix(REVERSAL_SUFFIX) for r in references if r.endswith(REVERSAL_SUFFIX) and r not in held]
        originals = {r: held[r] for r in missing if r in held}
        unknown = [r for r in missing if r not in held and r not in references]   # not asked for yet
        if unknown:
            originals.update({self._remote(j)[0]: j for j in self._get_journals(unknown, files=files)})
        wids = [_id(_one(j.Journal_Entry_Data).Cancel_Reversed_By_Journal_Entry_Reference, "WID")
                for j in originals.values()]
        return journals + (self._by_wid([w for w in wids if w], files=files) if any(wids) else [])

    def find_by_reference(self, references: Sequence[str]) -> dict[str, RemoteDocument]:
        """A reversal is found by its own id (`<reference>-R`, a journal we submitted) or as the
        journal Workday made by reversing the original."""
        found = dict(self._remote(j) for j in self._with_workday_reversals(
            [*references, *(r + REVERSAL_SUFFIX for r in references)]))
        live = {}
        for ref in references:
            doc = found.get(ref)
            reversal = found.get(ref + REVERSAL_SUFFIX)
            if doc and doc.live and not (reversal and reversal.live):
                live[ref] = doc
        return live

    # read_back ------------------------------------------------------------------------
    def read_back(self, *, date_from: date | None = None, date_to: date | None = None,
                  references: Sequence[str] = ()) -> Iterator[ReadBackPage]:
        """Get_Journals by accounting dates for the company, 999 a page; by references, the
        journals holding them as `Accounting_Journal_ID`, the reversals Workday made of them, and
        any copy carrying one of them as its `External_Reference_ID` under another id (see `_copies`)."""
        if references:
            before = self.client.calls
            wanted = list(dict.fromkeys(references))
            found = [readback.document(j) for j in self._with_workday_reversals(wanted, files=True)]
            found += self._copies(wanted, found)
            yield ReadBackPage(documents=tuple(found), requests=self.client.calls - before)
            return
        data = readback.by_dates(self.settings.company, date_from, date_to, version=self.settings.version)
        for journals in self._pages("Get_Journals", data, lambda d: d.Journal_Entry, count=readback.PAGE_SIZE):
            yield ReadBackPage(documents=tuple(readback.document(j) for j in journals), requests=1)

    def _copies(self, references: Sequence[str], found: list[VendorDocument]) -> list[VendorDocument]:
        """Journals made under another id that carry one of `references` as their
        External_Reference_ID (a journal copied in the tenant, one resubmitted without our id).
        Get_Journals has no criterion on that field, so the accounting days of the journals found
        are read by dates, each day once per connector (a verification run reads a month's days
        once, however many batches it sends)."""
        if not found:
            return []
        wanted, seen = set(references), {doc.external_id for doc in found}
        return [doc for doc in self._dated(min(d.date for d in found), max(d.date for d in found))
                if doc.external_id not in seen and doc.reference in wanted]

    def _dated(self, first: date, last: date) -> list[VendorDocument]:
        days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        missing = [day for day in days if day not in self._days_read]
        if missing:
            for day in days[days.index(missing[0]):days.index(missing[-1]) + 1]:
                self._days_read[day] = []
            data = readback.by_dates(self.settings.company, missing[0], missing[-1], version=self.settings.version)
            for journals in self._pages("Get_Journals", data, lambda d: d.Journal_Entry, count=readback.PAGE_SIZE):
                for journal in journals:
                    doc = readback.document(journal)
                    self._days_read.setdefault(doc.date, []).append(doc)
        return [doc for day in days for doc in self._days_read[day]]

    # reverse --------------------------------------------------------------------------
    def reverse(self, external_id: str, entry: AccountingEntry, idempotency_key: str) -> PushResult:
        """Drafts and submitted journals are canceled; a posted journal is reversed by Workday
        (Unpost-Reverse_Accounting_Journal), which links the two journals both ways, in the
        original's period. When that period is closed, the reversal entry is submitted as a journal of
        its own, under its own Add_Only id (so a retry cannot book it twice), linked by name only:
        Submit_Accounting_Journal has no element naming the journal it reverses."""
        before = self.client.calls
        try:
            journals = self._paged("Get_Journals", {"Request_References": {"JournalEntryReference": [
                {"ID": [{"_value_1": external_id, "type": "WID"}]}]}}, lambda d: d.Journal_Entry)
        except Permanent as exc:
            if not getattr(exc, "invalid_ids", None):
                raise
            journals = []
        if not journals:
            return PushResult(external_id=external_id, calls=self.client.calls - before,
                              notes=("journal not found in Workday; nothing to reverse",))
        data = _one(journals[0].Journal_Entry_Data)
        status = _id(data.Journal_Status_Reference, "Journal_Entry_Status_ID")
        if status == "Canceled":
            return PushResult(external_id=external_id, calls=self.client.calls - before,
                              notes=("already canceled in Workday",))
        if status != "Posted":
            self.client.call("Cancel_Accounting_Journal", schema.journal_action(external_id))
            return PushResult(external_id=external_id, calls=self.client.calls - before)
        reversed_by = _id(data.Cancel_Reversed_By_Journal_Entry_Reference, "WID")
        if not reversed_by:
            reversed_by, status = self._unpost_reverse(external_id)
            if status not in ("Posted", ""):
                # A tenant without "Always Reverse Accounting Journals" unposts instead: cancel it.
                self.client.call("Cancel_Accounting_Journal", schema.journal_action(external_id))
                return PushResult(external_id=external_id, calls=self.client.calls - before,
                                  notes=("unposted and canceled in Workday",))
        if reversed_by:
            return PushResult(external_id=reversed_by, calls=self.client.calls - before, notes=(
                f"Workday reversal journal {reversed_by} reverses journal {external_id} "
                f"(Cancel_Reverses_Journal_Entry_Reference), in the original's period",))
        result = self._submit(entry, idempotency_key)
        return PushResult(external_id=result.external_id, replayed=result.replayed,
                          calls=self.client.calls - before, warnings=result.warnings, notes=(
                              f"reversal journal {entry.reference}, linked to {external_id} by name: Workday "
                              "reverses only in the original's period, which is closed",))

    def _unpost_reverse(self, external_id: str) -> tuple[str, str]:
        """Workday's own reversal (Unpost-Reverse_Accounting_Journal), which links the two journals:
        (the reversal's WID, the original's status after it); ("", "") when the original's period
        is closed (our dated reversal journal is then submitted)."""
        try:
            self.client.call("Unpost-Reverse_Accounting_Journal", schema.journal_action(external_id),
                             idempotency_key=f"unpost-reverse:{external_id}")
        except PeriodClosed:
            return "", ""
        [journal] = self._by_wid([external_id])
        data = _one(journal.Journal_Entry_Data)
        return (_id(data.Cancel_Reversed_By_Journal_Entry_Reference, "WID"),
                _id(data.Journal_Status_Reference, "Journal_Entry_Status_ID"))
