"""AccountingEntry → Apideck Accounting payloads for the Workday connector. Pure: no network, no DB.

Two shapes (../shared/vendor-apis/apideck.md A6, A7; workday-soap.md C):
- journal entry: every line explicit (`type` debit/credit, positive `total_amount`), ≥ 2 lines that
  balance, worktags per line. A line without a `Cost_Center_Reference_ID` worktag makes Workday
  keep the whole entry as a draft, so `draft_reasons` says so before it is sent.
- expense: the paid-through account in `account` (credited), the cost lines in `line_items`
  (debited); Apideck adds the balancing payment line itself.
Our reference goes in `number` (the only field we can find a document by afterwards).

Workday ledger-account ids are base64 of `{"Account_Id", "Account_Set_Id"}`; `decode_account_id`
makes them readable for the mapping screens.
"""

import base64
import binascii
import dataclasses
import json
from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal

# The service behind Apideck here is Workday: its worktag rules and refusals are the direct
# connector's, so a mapping means the same through either.
from .. import fidelity as F
from ..entry import AccountingEntry, EntryKind, EntryLine, LineRole
from ..errors import UnsupportedEntry
from ..worktags import COST_CENTER, worktag_type
from ..worktags import line_worktags as worktag_values

MAX_MEMO = 255


@dataclass(frozen=True)
class ApideckSettings:
    company_id: str = ""
    status: str = "posted"               # what we ask for; Workday may still leave a draft
    document: str = "journal_entry"      # or "expense"
    default_cost_center: str = ""


def encode_account_id(account_id: str, account_set: str) -> str:
    raw = json.dumps({"Account_Id": account_id, "Account_Set_Id": account_set}, separators=(",", ":"))
    return base64.b64encode(raw.encode()).decode()


def decode_account_id(remote_id: str) -> dict | None:
    """{"Account_Id", "Account_Set_Id"} or None when the id is not a Workday-encoded one."""
    try:
        data = json.loads(base64.b64decode(remote_id, validate=True))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    if isinstance(data, dict) and {"Account_Id", "Account_Set_Id"} <= set(data):
        return {"Account_Id": str(data["Account_Id"]), "Account_Set_Id": str(data["Account_Set_Id"])}
    return None


def readable_account(remote_id: str) -> str:
    decoded = decode_account_id(remote_id)
    return f"{decoded['Account_Set_Id']} / {decoded['Account_Id']}" if decoded else remote_id


def line_worktags(line: EntryLine, default_cost_center: str = "") -> list[dict]:
    """Workday's worktags, as Apideck's `worktags` list: the same rules as the direct connector."""
    tags = worktag_values(line)
    if default_cost_center:
        tags.setdefault(COST_CENTER, default_cost_center)
    return [{"id": id_type, "value": value} for id_type, value in sorted(tags.items())]


def _document_cost_center(entry: AccountingEntry, default: str) -> str:
    for line in entry.lines:
        for dim in line.dimensions:
            if worktag_type(dim.kind) == COST_CENTER and dim.remote_id:
                return dim.remote_id
    return default


def _memo(entry: AccountingEntry) -> str:
    return (entry.description or entry.description_ar or entry.merchant or entry.reference)[:MAX_MEMO]


def _timestamp(entry: AccountingEntry) -> str:
    return datetime.combine(entry.date, time(0, 0)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _line_tax(line: EntryLine, *, sub_total: bool) -> dict:
    """The tax code with the tax (and, on journal lines, the net) amount, where the line carries
    its tax inside its amount; a separate tax line carries its own amount, so only the code rides
    along. Expense lines have no `sub_total` (additionalProperties: false)."""
    if not line.tax_rate:
        return {}
    out = {"tax_rate": {"id": line.tax_rate}}
    if line.tax_inclusive and line.tax_amount:
        out["tax_amount"] = line.tax_amount
        if sub_total:
            out["sub_total"] = (line.debit or line.credit) - line.tax_amount
    return out


def journal_entry_payload(entry: AccountingEntry, settings: ApideckSettings) -> dict:
    if entry.kind is EntryKind.STATEMENT_TRANSACTION:
        raise UnsupportedEntry("Workday has no bank-feed statements through Apideck", "kind")
    # The paid-through line carries the document's cost centre, as a Workday journal line must.
    cost_center = _document_cost_center(entry, settings.default_cost_center)
    items = []
    for i, line in enumerate(entry.lines, start=1):
        items.append({
            "type": "debit" if line.debit else "credit",
            "total_amount": line.debit or line.credit,
            "ledger_account": {"id": line.account},
            "description": (line.description or _memo(entry))[:MAX_MEMO],
            "line_number": i,
            "worktags": line_worktags(line, cost_center),
            **_line_tax(line, sub_total=True),
        })
    payload = {"number": entry.reference, "title": _memo(entry), "memo": _memo(entry), "currency": entry.currency,
               "posted_at": _timestamp(entry), "status": settings.status, "line_items": items}
    if settings.company_id:
        payload["company_id"] = settings.company_id
    if entry.exchange_rate is not None:
        payload["currency_rate"] = entry.exchange_rate
    payload.update(_treatment(entry))
    return payload


def _treatment(entry: AccountingEntry) -> dict:
    """`tax_inclusive` as the source stated it, on a document that carries a tax code (the line
    amounts are the same either way: total, net and tax are each sent)."""
    if not any(line.tax_rate for line in entry.lines):
        return {}
    return {"tax_inclusive": dict(entry.extra).get("tax_treatment") != "exclusive"}


def fits_expense(entry: AccountingEntry) -> bool:
    paid = entry.lines_with(LineRole.PAID_THROUGH)
    rest = [line for line in entry.lines if line.role is not LineRole.PAID_THROUGH]
    return entry.kind is EntryKind.EXPENSE and len(paid) == 1 and paid[0].credit > 0 and all(
        line.debit > 0 for line in rest)


def expense_payload(entry: AccountingEntry, settings: ApideckSettings) -> dict:
    if not fits_expense(entry):
        raise UnsupportedEntry("an Apideck expense needs one paid-through credit and debit cost lines", "lines")
    paid = entry.lines_with(LineRole.PAID_THROUGH)[0]
    cost_center = _document_cost_center(entry, settings.default_cost_center)
    items = []
    for i, line in enumerate((x for x in entry.lines if x is not paid), start=1):
        items.append({
            "account": {"id": line.account},
            "total_amount": line.debit,
            "description": (line.description or _memo(entry))[:MAX_MEMO],
            "line_number": i,
            "tracking_categories": [{"id": t["value"], "parent_id": t["id"]}
                                    for t in line_worktags(line, cost_center)],
            **_line_tax(line, sub_total=False),
        })
    payload = {"number": entry.reference, "transaction_date": _timestamp(entry),
               "account": {"id": paid.account, "type": "ledger_account"}, "currency": entry.currency,
               "memo": _memo(entry), "type": "expense", "total_amount": paid.credit, "line_items": items,
               "status": settings.status}
    if settings.company_id:
        payload["company_id"] = settings.company_id
    if entry.exchange_rate is not None:
        payload["currency_rate"] = entry.exchange_rate
    payload.update(_treatment(entry))
    return payload


def draft_reasons(payload: dict) -> list[str]:
    """Why Workday will keep this journal entry as a draft even though we asked for posted."""
    if payload.get("status") != "posted" or "ledger_account" not in (payload.get("line_items") or [{}])[0]:
        return []
    missing = [str(item.get("line_number", i + 1)) for i, item in enumerate(payload["line_items"])
               if not any(t.get("id") == COST_CENTER and t.get("value") for t in item.get("worktags") or [])]
    if not missing:
        return []
    return [f"line(s) {', '.join(missing)} have no {COST_CENTER} worktag: Workday keeps the journal as a draft"]


def draft_field(payload: dict) -> str:
    """The first line whose worktags lack a cost centre, as a field path for the review screen."""
    for i, item in enumerate(payload.get("line_items") or []):
        if not any(t.get("id") == COST_CENTER and t.get("value") for t in item.get("worktags") or []):
            return f"line_items.{i}.worktags"
    return "line_items"


def gross(payload: dict) -> Decimal:
    if "account" in payload:
        return Decimal(str(payload["total_amount"]))
    return sum((Decimal(str(i["total_amount"])) for i in payload["line_items"] if i["type"] == "debit"), Decimal(0))


def _vat(entry: AccountingEntry, then) -> AccountingEntry:
    """The sample with VAT 15 % inside its expense line (the sandbox's SA_VAT_15)."""
    lines = tuple(dataclasses.replace(line, tax_rate="SA_VAT_15", tax_amount=(line.debit * 15 / 115).quantize(
        Decimal("0.01"))) if line.role is LineRole.EXPENSE else line for line in entry.lines)
    return then(dataclasses.replace(entry, lines=lines))


# Where each Expensico field lands in an Apideck journal entry (the default document; an expense
# carries the same fields), or why it cannot: rendered into connectors/FIDELITY.md, proven by
# tests/contract/test_fidelity.py.
_NO_FIELD = "a journal entry has no field for it"
FIDELITY = {
    "description": F.Lands("memo", read=F.memo, expect=lambda e: e.description[:MAX_MEMO]),
    "description_ar": F.Lands("memo", note="when the source has no English one; no second-language field",
                              read=F.memo, expect=lambda e: e.description_ar[:MAX_MEMO], prepare=F.arabic_only),
    "merchant": F.Cannot("no merchant text on a journal entry"),
    "employee": F.Lands("line_items[].description", note="of the paid-through line", read=F.credit_line_text,
                        expect=lambda e: e.employee, prepare=F.with_employee),
    "report": F.Cannot(_NO_FIELD),
    "approved_by": F.Cannot(_NO_FIELD),
    "category": F.Lands("line_items[].ledger_account", note="the mapped ledger account", read=F.debited_accounts,
                        expect=F.expense_account),
    "expense_type": F.Cannot(_NO_FIELD),
    "dimensions": F.Lands("line_items[].worktags", read=F.has_dimension, expect=F.entry_dimensions),
    "custom_fields": F.Cannot("not sent: Apideck has custom_fields, but not which Workday field keeps them"),
    "receipts": F.Cannot("the Attachments API (/accounting/attachments/{reference_type}/{reference_id}) takes "
                         "reference_type from AttachmentReferenceType: invoice, bill, expense, expense-report, "
                         "quote; no journal entry (apideck-accounting.yml)"),
    "exchange_rate": F.Lands("currency_rate", note="foreign documents, with the document currency",
                             read=lambda d, e: (d.raw["currency"], Decimal(str(d.raw["currency_rate"]))),
                             expect=lambda e: (e.currency, e.exchange_rate), prepare=F.foreign),
    "tax": F.Lands("line_items[].tax_rate, tax_amount", note="with sub_total (the net)", read=F.held_tax,
                   expect=F.sent_tax, prepare=lambda e: _vat(e, F.exclusive_tax)),
    "tax_treatment": F.Lands("tax_inclusive", note="the source's; the lines carry total, net and tax alike",
                             read=lambda d, e: d.raw.get("tax_inclusive"), expect=lambda e: False,
                             prepare=lambda e: _vat(e, F.exclusive_tax)),
    "card_last4": F.Cannot(_NO_FIELD),
    "bank_reference": F.Cannot("no bank-feed statements through Apideck for Workday"),
}
