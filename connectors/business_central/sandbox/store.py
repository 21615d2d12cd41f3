"""The Business Central sandbox's business rules: what each entity set accepts on create, and
what posting does. Routing and HTTP live in `sandbox.py`; OData mechanics in `sandbox_odata.py`."""

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

from .odata import ODataError

READ_ONLY = {"accounts", "dimensions", "dimensionValues", "generalLedgerEntries", "companies", "companyInformation"}
WRITABLE = {
    "journals": {"code", "displayName", "templateDisplayName", "balancingAccountId"},
    "journalLines": {"id", "lineNumber", "accountType", "accountId", "accountNumber", "postingDate",
                     "documentNumber", "externalDocumentNumber", "amount", "description", "comment", "taxCode",
                     "balanceAccountType", "balancingAccountId", "balancingAccountNumber"},
    "purchaseInvoices": {"id", "vendorId", "vendorNumber", "vendorInvoiceNumber", "invoiceDate", "postingDate",
                         "dueDate", "currencyCode", "shortcutDimension1Code", "shortcutDimension2Code",
                         "purchaseInvoiceLines"},
    "purchaseInvoiceLines": {"id", "sequence", "lineType", "lineObjectNumber", "accountId", "description",
                             "description2", "unitCost", "quantity", "taxCode", "discountAmount"},
    "purchaseCreditMemos": {"id", "vendorId", "vendorNumber", "vendorCreditMemoNumber", "creditMemoDate",
                            "postingDate", "dueDate", "currencyCode", "invoiceId", "purchaseCreditMemoLines"},
    "purchaseCreditMemoLines": {"id", "sequence", "lineType", "lineObjectNumber", "accountId", "description",
                                "description2", "unitCost", "quantity", "taxCode", "discountAmount"},
    "dimensionSetLines": {"id", "code", "valueId", "valueCode"},
    "attachments": {"parentId", "fileName", "parentType"},
    "bankAccounts": {"number", "displayName", "bankAccountNumber", "iban", "currencyCode", "blocked"},
    "vendors": {"number", "displayName", "email", "currencyCode", "blocked"},
    "employees": {"number", "displayName", "givenName", "surname", "email", "status"},
}
CODE_FIELDS = {"documentNumber": 20, "externalDocumentNumber": 20, "vendorInvoiceNumber": 35,
               "vendorCreditMemoNumber": 35, "code": 20}
# A journal (batch) code is shorter than other Code fields: Code[10] (contract A6).
ENTITY_CODE_FIELDS = {"journals": {"code": 10}}
# Attachment parent types the sandbox knows → the entity set the parent lives in.
ATTACHMENT_PARENTS = {"Journal": "journalLines", "Purchase Invoice": "purchaseInvoices"}
LINES = {"purchaseInvoices": "purchaseInvoiceLines", "purchaseCreditMemos": "purchaseCreditMemoLines"}
TEXT_FIELDS = {"description": 100, "comment": 250, "displayName": 100, "description2": 50}
AP_ACCOUNT = "2110"


def now_ts() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_id() -> str:
    return str(uuid.uuid4())


def dec(value) -> Decimal:
    return Decimal(str(value))


class Rules:
    """Mixed into the sandbox app: `self.sets` holds every entity set as {id: row}."""

    def check_properties(self, entity: str, body: dict) -> None:
        allowed = WRITABLE.get(entity, set())
        for name in body:
            if name not in allowed:
                raise ODataError(400, "BadRequest", f"The property '{name}' does not exist on type "
                                 f"'Microsoft.NAV.{entity[:-1]}'. Make sure to only use property names that are "
                                 f"defined by the type.")
        for name, limit in {**CODE_FIELDS, **TEXT_FIELDS, **ENTITY_CODE_FIELDS.get(entity, {})}.items():
            value = body.get(name)
            if isinstance(value, str) and len(value) > limit:
                raise ODataError(400, "Application_StringExceededLength",
                                 f"The length of the string is {len(value)}, but it must be less than or equal "
                                 f"to {limit} characters. Value: {value}")
        for name in CODE_FIELDS:
            if isinstance(body.get(name), str):
                body[name] = body[name].upper()       # Code fields are stored upper-case

    def _relation(self, table: str, caption: str, value, entity_set: str, key: str = "id") -> dict:
        row = next((r for r in self.sets[entity_set].values() if str(r.get(key)) == str(value)), None)
        if row is None:
            raise ODataError(400, "Internal_InvalidTableRelation",
                             f"The field {caption} of table {table} contains a value ({value}) that cannot be "
                             f"found in the related table ({'G/L Account' if entity_set == 'accounts' else entity_set}).")
        return row

    def gl_account(self, table: str, caption: str, account_id=None, number=None) -> dict:
        row = self._relation(table, caption, account_id or number, "accounts", "id" if account_id else "number")
        if row["accountType"] != "Posting" or row["blocked"]:
            raise ODataError(400, "Application_FieldValidationException",
                             f"Account Type must be equal to 'Posting' in G/L Account: No.={row['number']}. "
                             f"Current value is '{row['accountType']}'.")
        if not row["directPosting"]:
            raise ODataError(400, "Application_FieldValidationException",
                             f"Direct Posting must be equal to 'Yes' in G/L Account: No.={row['number']}.")
        return row

    def _typed_account(self, table: str, caption: str, kind: str, account_id, number) -> dict:
        if kind in ("", "G/L Account"):
            return self.gl_account(table, caption, account_id, number)
        if kind == "Bank Account":
            return self._relation(table, caption, account_id or number, "bankAccounts",
                                  "id" if account_id else "number")
        if kind == "Employee":
            return self._relation(table, caption, account_id or number, "employees", "id" if account_id else "number")
        raise ODataError(400, "BadRequest", f"Invalid enum value '{kind}'.")

    # Creates ------------------------------------------------------------------------------
    def prepare_journal_line(self, journal: dict, body: dict) -> dict:
        table = "Gen. Journal Line"
        kind = body.setdefault("accountType", "G/L Account")
        account = self._typed_account(table, "Account No.", kind, body.get("accountId"), body.get("accountNumber"))
        body["accountId"], body["accountNumber"] = account["id"], account["number"]
        if body.get("balancingAccountId") or body.get("balancingAccountNumber"):
            bal_kind = body.setdefault("balanceAccountType", "G/L Account")
            bal = self._typed_account(table, "Bal. Account No.", bal_kind, body.get("balancingAccountId"),
                                      body.get("balancingAccountNumber"))
            body["balancingAccountId"], body["balancingAccountNumber"] = bal["id"], bal["number"]
        if body.get("taxCode"):
            self._relation(table, "Tax Group Code", body["taxCode"], "taxGroups", "code")
        try:
            date.fromisoformat(body.get("postingDate") or "")
        except ValueError:
            raise ODataError(400, "BadRequest", "Cannot convert the literal to the expected type 'Edm.Date'.") \
                from None
        siblings = [r for r in self.sets["journalLines"].values() if r["journalId"] == journal["id"]]
        return {"id": new_id(), "journalId": journal["id"], "journalDisplayName": journal["code"],
                "lineNumber": 10000 * (len(siblings) + 1), "accountType": "G/L Account", "accountId": "",
                "accountNumber": "", "postingDate": "", "documentNumber": "", "externalDocumentNumber": "",
                "amount": 0, "description": "", "comment": "", "taxCode": "", "balanceAccountType": "G/L Account",
                "balancingAccountId": "", "balancingAccountNumber": "", **body, "lastModifiedDateTime": now_ts()}

    def prepare_invoice(self, body: dict, entity: str = "purchaseInvoices") -> tuple[dict, list[dict]]:
        table = "Purchase Header"
        vendor = self._relation(table, "Buy-from Vendor No.", body.get("vendorId") or body.get("vendorNumber"),
                                "vendors", "id" if body.get("vendorId") else "number")
        if body.get("currencyCode") == self.company["currency"]:
            raise ODataError(400, "Internal_InvalidTableRelation", f"The field Currency Code of table Purchase "
                             f"Header contains a value ({body['currencyCode']}) that cannot be found in the related "
                             f"table (Currency). Leave it empty for the local currency.")
        if body.get("currencyCode"):
            self._relation(table, "Currency Code", body["currencyCode"], "currencies", "code")
        lines = body.pop(LINES[entity], []) or []
        if entity == "purchaseCreditMemos" and body.get("invoiceId"):
            invoice = self._relation(table, "Applies-to Doc. No.", body["invoiceId"], "purchaseInvoices")
            if invoice["status"] not in ("Open", "Paid"):
                raise ODataError(400, "Application_DialogException", "A credit memo corrects a posted invoice.")
            body["invoiceNumber"] = invoice["number"]
        prefix = "PI" if entity == "purchaseInvoices" else "PCM"
        number = f"{prefix}{len(self.sets[entity]) + 1001:06d}"
        dated = "invoiceDate" if entity == "purchaseInvoices" else "creditMemoDate"
        reference = "vendorInvoiceNumber" if entity == "purchaseInvoices" else "vendorCreditMemoNumber"
        header = {"id": body.get("id") or new_id(), "number": number, dated: date.today().isoformat(),
                  "postingDate": date.today().isoformat(), "dueDate": "", reference: "",
                  "currencyCode": "", **body, "vendorId": vendor["id"], "vendorNumber": vendor["number"],
                  "vendorName": vendor["displayName"], "status": "Draft", "totalAmountExcludingTax": 0,
                  "totalTaxAmount": 0, "totalAmountIncludingTax": 0, "lastModifiedDateTime": now_ts()}
        return header, lines

    def prepare_invoice_line(self, invoice: dict, body: dict, lines: str = "purchaseInvoiceLines") -> dict:
        if body.get("lineType", "Item") != "Account":
            raise ODataError(400, "BadRequest", "Only lineType 'Account' is emulated by this sandbox.")
        account = self.gl_account("Purchase Line", "No.", body.get("accountId"), body.get("lineObjectNumber"))
        if body.get("taxCode"):
            self._relation("Purchase Line", "Tax Group Code", body["taxCode"], "taxGroups", "code")
        siblings = [r for r in self.sets[lines].values() if r["documentId"] == invoice["id"]]
        amount = dec(body.get("unitCost", 0)) * dec(body.get("quantity", 1))
        return {"id": new_id(), "documentId": invoice["id"], "sequence": 10000 * (len(siblings) + 1),
                "description": "", "description2": "", "quantity": 1, "unitCost": 0, "taxCode": "", **body,
                "accountId": account["id"], "lineObjectNumber": account["number"],
                "amountIncludingTax": float(amount), "netAmount": float(amount)}

    def refresh_invoice_totals(self, invoice: dict, lines: str = "purchaseInvoiceLines") -> None:
        total = sum((dec(ln["amountIncludingTax"]) for ln in self.sets[lines].values()
                     if ln["documentId"] == invoice["id"]), Decimal(0))
        invoice.update(totalAmountExcludingTax=float(total), totalAmountIncludingTax=float(total))

    def prepare_dimension_set_line(self, parent_type: str, parent_id: str, body: dict) -> dict:
        dims = self.sets["dimensions"]
        dim = dims.get(body.get("id") or "") or next(
            (d for d in dims.values() if d["code"] == str(body.get("code", "")).upper()), None)
        if dim is None:
            raise ODataError(400, "Internal_RecordNotFound",
                             f"The Dimension does not exist. Identification fields and values: Code='{body.get('code')}'")
        value = next((v for v in self.sets["dimensionValues"].values() if v["dimensionId"] == dim["id"]
                      and (v["id"] == body.get("valueId") or v["code"] == body.get("valueCode"))), None)
        if value is None:
            raise ODataError(400, "Internal_InvalidTableRelation",
                             f"The field Dimension Value Code of table Dimension Set Entry contains a value "
                             f"({body.get('valueId') or body.get('valueCode')}) that cannot be found in the "
                             f"related table (Dimension Value).")
        if any(r["parentId"] == parent_id and r["id"] == dim["id"] for r in self.sets["dimensionSetLines"].values()):
            raise ODataError(400, "Internal_EntityWithSameKeyExists",
                             f"The record already exists: Dimension Code='{dim['code']}'.")
        return {"id": dim["id"], "code": dim["code"], "parentId": parent_id, "parentType": parent_type,
                "displayName": dim["displayName"], "valueId": value["id"], "valueCode": value["code"],
                "valueDisplayName": value["displayName"]}

    # Posting ------------------------------------------------------------------------------
    def _gl_entry(self, line_date: str, document: str, account: dict, amount: Decimal, description: str,
                  document_type: str = "") -> None:
        number = len(self.sets["generalLedgerEntries"]) + 1
        row = {"id": new_id(), "entryNumber": number, "postingDate": line_date, "documentNumber": document,
               "documentType": document_type, "accountId": account["id"], "accountNumber": account["number"],
               "description": description, "debitAmount": float(amount) if amount > 0 else 0.0,
               "creditAmount": float(-amount) if amount < 0 else 0.0, "lastModifiedDateTime": now_ts()}
        self.sets["generalLedgerEntries"][row["id"]] = row

    def _ledger_account(self, kind: str, account_id: str) -> dict:
        if kind == "Bank Account":
            return self.sets["bankAccounts"][account_id]
        return self.sets["accounts"].get(account_id) or self.sets["employees"][account_id]

    def post_journal(self, journal: dict) -> None:
        lines = [r for r in self.sets["journalLines"].values() if r["journalId"] == journal["id"]]
        per_document: dict[str, Decimal] = {}
        for line in lines:
            if not line["balancingAccountId"]:
                per_document[line["documentNumber"]] = per_document.get(line["documentNumber"], 0) + dec(line["amount"])
        for line in lines:
            self.check_posting_date(line["postingDate"], f"Gen. Journal Line Journal Template Name='GENERAL',"
                                    f"Journal Batch Name='{journal['code']}',Line No.='{line.get('lineNumber', 0)}'")
        for document, total in per_document.items():
            if total != 0:
                raise ODataError(400, "Application_DialogException",
                                 f"Document No. {document} is out of balance by {total}. Please check that "
                                 f"Posting Date, Document Type, Document No. and Amount are correct for each line.")
        for line in lines:
            amount = dec(line["amount"])
            self._gl_entry(line["postingDate"], line["documentNumber"],
                           self._ledger_account(line["accountType"], line["accountId"]), amount, line["description"])
            if line["balancingAccountId"]:
                self._gl_entry(line["postingDate"], line["documentNumber"],
                               self._ledger_account(line["balanceAccountType"], line["balancingAccountId"]),
                               -amount, line["description"])
            self.delete_children("journalLines", line["id"])
            del self.sets["journalLines"][line["id"]]

    def post_invoice(self, invoice: dict) -> None:
        if invoice["status"] != "Draft":
            raise ODataError(400, "Application_DialogException", f"Status must be equal to 'Draft' in Purchase "
                             f"Header: Document Type=Invoice, No.={invoice['number']}.")
        for other in self.sets["purchaseInvoices"].values():
            if other is not invoice and other["status"] in ("Open", "Paid") and other["vendorId"] == invoice["vendorId"] \
                    and other["vendorInvoiceNumber"] == invoice["vendorInvoiceNumber"]:
                raise ODataError(400, "Application_DialogException",
                                 f"Purchase Invoice {invoice['vendorInvoiceNumber']} already exists for this vendor.")
        self.check_posting_date(invoice["postingDate"], f"Purchase Header Document Type='Invoice',No.='{invoice['number']}'")
        lines = [r for r in self.sets["purchaseInvoiceLines"].values() if r["documentId"] == invoice["id"]]
        if not lines:
            raise ODataError(400, "Application_DialogException", "There is nothing to post.")
        payable = next(a for a in self.sets["accounts"].values() if a["number"] == AP_ACCOUNT)
        for line in lines:
            self._gl_entry(invoice["postingDate"], invoice["number"], self.sets["accounts"][line["accountId"]],
                           dec(line["amountIncludingTax"]), line["description"], "Invoice")
        self._gl_entry(invoice["postingDate"], invoice["number"], payable, -dec(invoice["totalAmountIncludingTax"]),
                       invoice["vendorName"], "Invoice")
        invoice.update(status="Open", lastModifiedDateTime=now_ts())

    def post_credit_memo(self, memo: dict) -> None:
        """The vendor-correct undo of a posted invoice: the payable and the costs go back."""
        if memo["status"] != "Draft":
            raise ODataError(400, "Application_DialogException", f"Status must be equal to 'Draft' in Purchase "
                             f"Header: Document Type=Credit Memo, No.={memo['number']}.")
        if not memo.get("vendorCreditMemoNumber"):
            raise ODataError(400, "Application_DialogException", "You need to enter the document number of the "
                             "document from the vendor in the Vendor Cr. Memo No. field.")
        self.check_posting_date(memo["postingDate"], f"Purchase Header Document Type='Credit Memo',No.='{memo['number']}'")
        lines = [r for r in self.sets["purchaseCreditMemoLines"].values() if r["documentId"] == memo["id"]]
        payable = next(a for a in self.sets["accounts"].values() if a["number"] == AP_ACCOUNT)
        for line in lines:
            self._gl_entry(memo["postingDate"], memo["number"], self.sets["accounts"][line["accountId"]],
                           -dec(line["amountIncludingTax"]), line["description"], "Credit Memo")
        self._gl_entry(memo["postingDate"], memo["number"], payable, dec(memo["totalAmountIncludingTax"]),
                       memo["vendorName"], "Credit Memo")
        memo.update(status="Open", lastModifiedDateTime=now_ts())
        if memo.get("invoiceId") in self.sets["purchaseInvoices"]:
            self.sets["purchaseInvoices"][memo["invoiceId"]].update(status="Corrective")

    def check_attachment_parent(self, body: dict) -> None:
        parents = ATTACHMENT_PARENTS.get(body.get("parentType") or "")
        if parents and body.get("parentId") not in self.sets[parents]:
            raise ODataError(400, "Internal_RecordNotFound", f"The {body['parentType']} with id "
                             f"{body.get('parentId')} does not exist.")

    def delete_children(self, entity: str, row_id: str) -> None:
        """What BC deletes with a record: its dimension set lines, a document's lines, and a
        journal batch's lines (attachments stay: they are incoming documents of their own)."""
        if entity == "journals":
            for line_id, line in list(self.sets["journalLines"].items()):
                if line["journalId"] == row_id:
                    self.delete_children("journalLines", line_id)
                    del self.sets["journalLines"][line_id]
        for line_id, line in list(self.sets["dimensionSetLines"].items()):
            if line["parentId"] == row_id:
                del self.sets["dimensionSetLines"][line_id]
        if entity in LINES:
            for line_id, line in list(self.sets[LINES[entity]].items()):
                if line["documentId"] == row_id:
                    self.delete_children(LINES[entity], line_id)
                    del self.sets[LINES[entity]][line_id]
