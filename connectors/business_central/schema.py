"""AccountingEntry → Business Central API v2.0 payloads. Pure: no network, no database.

Two export shapes, chosen per connection (the way Fyle offers both):

* general journal lines (default): one line per entry line, signed `amount` (debit positive),
  or, for the common two-line expense, one line with a balancing account: half the calls.
* purchase invoice: the employee (or card issuer) is the vendor, each EXPENSE line becomes a
  `lineType: "Account"` invoice line; the payable side is BC's own vendor posting.

Our reference must fit BC's 20-character Code fields (`documentNumber`,
`externalDocumentNumber`, `vendorInvoiceNumber`; Code fields are stored upper-case). A reference
that already fits and is upper-case travels as is; any other becomes `EXP-` + the first 16
base32 characters of its SHA-256 (80 bits: a collision needs ~10^12 references, and the full
reference rides along in `comment` / `description2`, so a lookup can still tell them apart).

A document built in several requests carries `pending_number(number)` until its last request
renames it, so a lookup by our reference only ever sees whole documents. A document posted
automatically is built in a journal batch of its own, `posting_journal_code(number)`.
"""

import base64
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal

from .. import fidelity as F
from ..entry import ZERO, AccountingEntry, EntryKind, EntryLine, LineRole
from ..errors import UnsupportedEntry

CODE_LENGTH = 20
JOURNAL_CODE_LENGTH = 10        # a journal batch code is Code[10]
DESCRIPTION_LENGTH = 50         # v1/beta docs; v2.0 allows more, 50 is safe everywhere
COMMENT_LENGTH = 250
MAX_BATCH = 100
DIMENSION_PREFIX = "dimension:"


def _digest(text: str) -> str:
    return base64.b32encode(hashlib.sha256(text.encode()).digest()).decode()


def short_reference(reference: str) -> str:
    """Our reference in ≤20 upper-case characters, deterministic and (practically) collision-free."""
    if len(reference) <= CODE_LENGTH and reference == reference.upper():
        return reference
    return "EXP-" + _digest(reference)[:16]


def pending_number(number: str) -> str:
    """What a document is numbered while it is being built: never our reference, so a half-made
    document is invisible to lookups, yet derived from it, so a later attempt finds the pieces."""
    return "P-" + _digest("pending:" + number)[:18]


def posting_journal_code(number: str) -> str:
    """A journal batch of the document's own (Code[10]): posting it posts nothing else. 40 bits
    of hash; such a batch lives only until its document is posted."""
    return "XP" + _digest("journal:" + number)[:8]


def dimension_code(kind: str) -> str | None:
    """Mapping kind `dimension:DEPARTMENT` (also a bare code) → BC dimension code."""
    if kind.startswith(DIMENSION_PREFIX):
        return kind[len(DIMENSION_PREFIX):]
    return kind.upper() if kind and ":" not in kind else None


def dimension_set_lines(line: EntryLine) -> list[dict]:
    out = []
    for dim in line.dimensions:
        code = dimension_code(dim.kind)
        if not code:
            # Dropping it would book the line without an analysis the customer mapped.
            raise UnsupportedEntry(f"a {dim.kind or 'kind-less'} dimension ({dim.label or dim.remote_id}) has no "
                                   f"place in Business Central: map it to a BC dimension (dimension:<CODE>)",
                                   "dimensions", code="unsupported_dimension")
        out.append({"code": code, "valueId": dim.remote_id})
    return out


def _description(entry: AccountingEntry, line: EntryLine | None = None) -> str:
    text = (line.description if line and line.description else "") or entry.description or entry.description_ar \
        or entry.merchant or entry.reference
    return text[:DESCRIPTION_LENGTH]


@dataclass
class JournalLine:
    body: dict
    dimensions: list[dict] = field(default_factory=list)


def _account_type(line: EntryLine) -> str:
    return "Bank Account" if line.role is LineRole.BANK else "G/L Account"


def lcy_amounts(entry: AccountingEntry, *, lcy: str = "", base_currency: str = "") -> list[Decimal]:
    """Signed line amounts in the company's local currency. API v2.0 journal lines carry no
    currency, so a foreign entry is converted at its own rate (which is to the organisation's
    base currency: usable only when that is BC's LCY); the paid-through side stays exact and another line absorbs the rounding."""
    nets = [line.net for line in entry.lines]
    if not lcy or entry.currency == lcy:
        return nets
    if entry.exchange_rate is None or (base_currency and base_currency != lcy):
        raise UnsupportedEntry(f"a {entry.currency} journal needs a rate to {lcy}, the company's local currency",
                               "exchange_rate")
    return entry.converted_nets(lcy)


def journal_lines(entry: AccountingEntry, *, lcy: str = "", base_currency: str = "") -> list[JournalLine]:
    """One journal line per entry line, or one line with a balancing account when the entry is
    a plain two-line pair whose credit side carries nothing of its own."""
    if entry.kind is EntryKind.STATEMENT_TRANSACTION:
        raise UnsupportedEntry("Business Central's API has no bank statement endpoint", "kind")
    amounts = lcy_amounts(entry, lcy=lcy, base_currency=base_currency)
    short = short_reference(entry.reference)
    common = {"postingDate": entry.date.isoformat(), "documentNumber": short,
              "externalDocumentNumber": short, "comment": entry.reference[:COMMENT_LENGTH]}
    debit = [ln for ln in entry.lines if ln.debit]
    credit = [ln for ln in entry.lines if ln.credit]
    if len(entry.lines) == 2 and len(debit) == 1 and len(credit) == 1 \
            and credit[0].dimensions in ((), debit[0].dimensions) and not credit[0].tax_rate:
        main, other = debit[0], credit[0]
        if main.role is LineRole.BANK:   # the bank belongs on the balancing side
            main, other = other, main
        amount = amounts[entry.lines.index(main)]
        body = {**common, "accountType": _account_type(main), "accountId": main.account, "amount": amount,
                "description": _description(entry, main), "balanceAccountType": _account_type(other),
                "balancingAccountId": other.account}
        if main.tax_rate:
            body["taxCode"] = main.tax_rate
        return [JournalLine(body, dimension_set_lines(main))]
    out = []
    for line, amount in zip(entry.lines, amounts, strict=True):
        body = {**common, "accountType": _account_type(line), "accountId": line.account, "amount": amount,
                "description": _description(entry, line)}
        if line.tax_rate:
            body["taxCode"] = line.tax_rate
        out.append(JournalLine(body, dimension_set_lines(line)))
    return out


def journal_total(lines: list[dict]) -> Decimal:
    """What a set of BC journal lines moved (Σ positive amounts): the document's gross."""
    return sum((Decimal(str(ln["amount"])) for ln in lines if Decimal(str(ln["amount"])) > 0), ZERO)


@dataclass
class PurchaseInvoice:
    header: dict
    lines: list[JournalLine]


def purchase_invoice(entry: AccountingEntry, *, vendor_id: str, lcy: str = "") -> PurchaseInvoice:
    """The employee-as-vendor bill. Lines are the EXPENSE (and TAX) lines; BC books the payable
    to the vendor itself, so the PAID_THROUGH line has no counterpart here."""
    if entry.kind is not EntryKind.EXPENSE:
        raise UnsupportedEntry(f"a purchase invoice carries expenses, not {entry.kind}", "kind")
    if not vendor_id:
        raise UnsupportedEntry("purchase invoices need a vendor (map the employee to a BC vendor)", "contact")
    cost = [ln for ln in entry.lines if ln.role in (LineRole.EXPENSE, LineRole.TAX)]
    if any(ln.credit for ln in cost):
        raise UnsupportedEntry("a purchase invoice line cannot be a credit", "lines")
    short = short_reference(entry.reference)
    header = {"vendorId": vendor_id, "vendorInvoiceNumber": short, "invoiceDate": entry.date.isoformat(),
              "postingDate": entry.date.isoformat(),
              # BC writes the local currency as an empty code; invoices carry foreign ones themselves.
              "currencyCode": "" if entry.currency == lcy else entry.currency}
    lines = []
    for i, line in enumerate(cost):
        body = {"lineType": "Account", "accountId": line.account, "description": _description(entry, line),
                "description2": entry.reference[:DESCRIPTION_LENGTH] if i == 0 else "",
                "unitCost": line.debit, "quantity": Decimal(1)}
        if line.tax_rate:
            body["taxCode"] = line.tax_rate
        lines.append(JournalLine(body, dimension_set_lines(line)))
    return PurchaseInvoice(header, lines)


def credit_memo(reversal: AccountingEntry, *, vendor_id: str, invoice_id: str, number: str,
                lcy: str = "") -> PurchaseInvoice:
    """The corrective credit memo for a posted purchase invoice: the reversal entry's cost lines
    (credits, since a reversal swaps sides) as positive credit memo lines."""
    cost = [ln for ln in reversal.lines if ln.role in (LineRole.EXPENSE, LineRole.TAX)]
    if not cost or any(ln.debit for ln in cost):
        raise UnsupportedEntry("a credit memo takes back the cost lines of the invoice", "lines")
    header = {"vendorId": vendor_id, "vendorCreditMemoNumber": number, "invoiceId": invoice_id,
              "creditMemoDate": reversal.date.isoformat(), "postingDate": reversal.date.isoformat(),
              "currencyCode": "" if reversal.currency == lcy else reversal.currency}
    lines = [JournalLine({"lineType": "Account", "accountId": ln.account, "description": _description(reversal, ln),
                          "unitCost": ln.credit, "quantity": Decimal(1), **({"taxCode": ln.tax_rate} if ln.tax_rate
                                                                             else {})},
                         dimension_set_lines(ln)) for ln in cost]
    return PurchaseInvoice(header, lines)


def batch(requests: list[dict]) -> dict:
    """A JSON `$batch` body. Inner `url`s are relative to `/api/v2.0/`."""
    if len(requests) > MAX_BATCH:
        raise ValueError(f"a $batch holds at most {MAX_BATCH} operations, got {len(requests)}")
    out = []
    for i, req in enumerate(requests, start=1):
        item = {"method": req["method"], "id": str(i), "url": req["url"],
                "headers": {"Content-Type": "application/json", **req.get("headers", {})}}
        if "body" in req:
            item["body"] = req["body"]
        if req.get("atomicityGroup"):      # all or nothing with the adjacent requests of its group
            item["atomicityGroup"] = req["atomicityGroup"]
        out.append(item)
    return {"requests": out}


def chunks(items: list, size: int = MAX_BATCH) -> list[list]:
    return [items[i:i + size] for i in range(0, len(items), size)]


def odata_quote(value: str) -> str:
    """A string literal for `$filter`: single quotes doubled."""
    return "'" + value.replace("'", "''") + "'"


# Where each Expensico field lands in Business Central general journal lines (the default shape;
# a purchase invoice carries the same texts on its lines), or why it cannot: rendered into
# connectors/FIDELITY.md, proven by tests/contract/test_fidelity.py.
_NO_FIELD = "a journal line has no field for it"
FIDELITY = {
    "description": F.Lands("description", note=f"first {DESCRIPTION_LENGTH} characters", read=F.memo,
                           expect=lambda e: e.description[:DESCRIPTION_LENGTH]),
    "description_ar": F.Lands("description", note="when the source has no English one; no second-language field",
                              read=F.memo, expect=lambda e: e.description_ar[:DESCRIPTION_LENGTH],
                              prepare=F.arabic_only),
    "merchant": F.Cannot("no merchant field on a journal line (a merchant mapped to a BC vendor is the purchase "
                         "invoice's `vendorId`)"),
    "employee": F.Cannot("a two-line journal is one line with a balancing account, which has no description of "
                         "its own"),
    "report": F.Cannot(_NO_FIELD),
    "approved_by": F.Cannot(_NO_FIELD),
    "category": F.Lands("accountId", note="the mapped G/L account", read=F.debited_accounts, expect=F.expense_account),
    "expense_type": F.Cannot(_NO_FIELD),
    "dimensions": F.Lands("dimensionSetLines", proof="tests/connectors/business_central/test_connector.py::"
                          "test_multi_line_entry_goes_in_one_snapshot_batch_with_dimensions"),
    "custom_fields": F.Cannot(_NO_FIELD),
    "receipts": F.Lands("attachments", proof="tests/connectors/business_central/test_documents.py::"
                        "test_journal_mode_attaches_the_receipt_to_the_documents_journal_line"),
    "exchange_rate": F.Cannot("API v2.0 journal lines have no currency or rate: a foreign entry is booked converted "
                              "to the local currency at Expensico's rate"),
    "tax": F.Lands("taxCode", note="BC computes the amount from the code", read=F.held_tax, expect=F.sent_tax),
    "tax_treatment": F.Cannot("a journal line's amount is the gross; no inclusive/exclusive switch on it"),
    "card_last4": F.Cannot(_NO_FIELD),
    "bank_reference": F.Cannot("the API has no bank statement endpoint; bank-side journals carry our reference"),
}
