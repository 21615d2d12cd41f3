"""AccountingEntry → Workday `Submit_Accounting_Journal` data. Pure: no network, no database.

The result is the keyword data zeep turns into XML against the shipped WSDL, so element order and
namespaces come from the schema, never from string building. Workday has no expense object: every
entry becomes one Accounting Journal whose `Accounting_Journal_ID` is our reference; with
`wd:Add_Only="true"` a second submit of the same id is refused instead of duplicated.

Remote account ids are `"<Account_Set_ID>/<Ledger_Account_ID>"`: a Workday ledger account is only
unique inside its Account Set, and the mapping screens show that form as is.
"""

from dataclasses import dataclass
from decimal import Decimal

from .. import fidelity as F
from ..entry import AccountingEntry, EntryKind, LineRole
from ..errors import UnsupportedEntry
from ..worktags import COST_CENTER, WORKTAG_TYPES, line_worktags, worktag_type  # noqa: F401  (schema.* names)

MAX_LINES = 1000             # Workday refuses more in one Submit_Accounting_Journal (XSD message)
MAX_MEMO = 255
RATE_PLACES = Decimal("0.000001")   # Currency_Rate: fractionDigits 6


@dataclass(frozen=True)
class JournalSettings:
    company: str                        # Company_Reference_ID
    account_set: str = "Standard"       # used when a remote account id carries no set
    ledger_type: str = "Actuals"
    journal_source: str = "Integration"
    submit: bool = True                 # False: saved as a draft journal
    auto_complete: bool = True          # approvals are approved automatically
    default_cost_center: str = ""       # used when no line carries a cost centre
    version: str = "v30.0"
    company_currency: str = ""          # the journal's currency; a foreign entry is converted to it
    base_currency: str = ""             # the organisation's: what the entry's rate converts to


def account_ref(remote_id: str, default_set: str = "Standard") -> dict:
    """`Set/6100` (or bare `6100`, in the default set) → a two-part Ledger_Account_Reference."""
    account_set, _, account = remote_id.rpartition("/")
    if not account:
        raise UnsupportedEntry(f"empty ledger account id {remote_id!r}", "account")
    return {"ID": [{"_value_1": account, "type": "Ledger_Account_ID", "parent_id": account_set or default_set,
                    "parent_type": "Account_Set_ID"}]}


def account_id(account_set: str, identifier: str) -> str:
    return f"{account_set}/{identifier}"


def _ref(value: str, id_type: str) -> dict:
    return {"ID": [{"_value_1": value, "type": id_type}]}


def _memo(entry: AccountingEntry) -> str:
    text = entry.description or entry.description_ar or entry.merchant or entry.reference
    return text[:MAX_MEMO]


def _refuse_tax_inside_lines(entry: AccountingEntry) -> None:
    """A journal line holds no tax amount (Tax_Detail_Data names a code only): tax inside an
    expense line would be booked as expense. Such a mapping is refused when saved; this catches
    one saved before that rule."""
    if entry.lines_with(LineRole.TAX):
        return
    for line in entry.lines:
        if line.tax_rate and line.tax_amount:
            raise UnsupportedEntry(f"Workday journal lines cannot carry the tax {line.tax_amount} of tax code "
                                   f"{line.tax_rate}: map the tax to a separate line with a tax account",
                                   "tax_rate", code="tax_not_carried")


def _in_company_currency(entry: AccountingEntry, settings: JournalSettings) -> tuple[str, list, str]:
    """(journal currency, signed line amounts, memo). A journal is in the company's currency
    (the header currency must match it), so a foreign entry is converted at its own rate (the
    lines' ledger amounts, `_foreign_line` carries the rest), its original currency, amount and
    rate kept in the memo too."""
    target = settings.company_currency
    if not target or entry.currency == target:
        return entry.currency, [line.net for line in entry.lines], _memo(entry)
    if entry.exchange_rate is None or (settings.base_currency and settings.base_currency != target):
        raise UnsupportedEntry(f"a {entry.currency} journal needs a rate to {target}, the company's currency",
                               "exchange_rate")
    note = f" (original {entry.original_note()})"
    return target, entry.converted_nets(target), _memo(entry)[:MAX_MEMO - len(note)] + note


def _foreign_line(item: dict, net: Decimal, entry: AccountingEntry) -> None:
    """A line of a foreign entry: Debit/Credit_Amount in the document's currency (the line's
    Currency_Reference) with Currency_Rate, the rate Expensico applied, and Ledger_Debit/Credit_Amount
    in the company's currency converted at it (what the ledger holds; the journal balances on them).
    The XSD holds six decimals of a rate: a longer rate is sent rounded, the ledger amounts exact."""
    ledger = item.pop("Debit_Amount", None) or item.pop("Credit_Amount")
    side = "Debit" if net > 0 else "Credit"
    item[f"{side}_Amount"] = abs(net)
    item["Currency_Reference"] = _ref(entry.currency, "Currency_ID")
    rate = entry.exchange_rate
    assert rate is not None, "a foreign line is converted at the entry's rate"
    item["Currency_Rate"] = rate if rate == rate.quantize(RATE_PLACES) else rate.quantize(RATE_PLACES)
    item[f"Ledger_{side}_Amount"] = ledger


def journal_request(entry: AccountingEntry, settings: JournalSettings) -> dict:
    """Submit_Accounting_Journal_Request data for an expense (or any balanced) entry."""
    if entry.kind is EntryKind.STATEMENT_TRANSACTION:
        raise UnsupportedEntry("Workday journals carry no bank statement lines", "kind")
    if not settings.company:
        raise UnsupportedEntry("the connection has no Workday company", "company")
    if len(entry.lines) > MAX_LINES:
        raise UnsupportedEntry(f"{len(entry.lines)} lines; Workday accepts at most {MAX_LINES}", "lines")
    _refuse_tax_inside_lines(entry)
    tags = [line_worktags(line) for line in entry.lines]
    # The balancing (paid-through) line usually has no dimensions; Workday wants the cost centre on
    # every line of an expense journal, so the document's cost centre is carried to those lines.
    shared = next((t[COST_CENTER] for t in tags if COST_CENTER in t), settings.default_cost_center)
    if not shared and any(line.role is LineRole.EXPENSE for line in entry.lines):
        # Expense accounts need a cost centre (Workday's "worktag type(s) are required"); say so
        # here, as a mapping gap, rather than spend a request on a certain fault.
        raise UnsupportedEntry("no cost centre worktag on any line and no default cost centre",
                               f"dimensions.{COST_CENTER}")
    currency, amounts, memo = _in_company_currency(entry, settings)
    lines = []
    for i, (line, worktags, amount) in enumerate(zip(entry.lines, tags, amounts, strict=True), start=1):
        if shared:
            worktags.setdefault(COST_CENTER, shared)
        item = {"Line_Order": str(i), "Ledger_Account_Reference": account_ref(line.account, settings.account_set)}
        if amount > 0:
            item["Debit_Amount"] = amount
        else:
            item["Credit_Amount"] = -amount
        if currency != entry.currency:
            _foreign_line(item, line.net, entry)
        item["Memo"] = (line.description or memo)[:MAX_MEMO]
        item["External_Reference_ID"] = f"{entry.reference}#{i}"
        item["Worktags_Reference"] = [_ref(value, id_type) for id_type, value in sorted(worktags.items())]
        lines.append(item)
    data = {
        "Accounting_Journal_ID": entry.reference,
        "Submit": settings.submit,
        "Company_Reference": _ref(settings.company, "Company_Reference_ID"),
        "Currency_Reference": _ref(currency, "Currency_ID"),
        "Ledger_Type_Reference": _ref(settings.ledger_type, "Ledger_Type_ID"),
        "Accounting_Date": entry.date,
        "Journal_Source_Reference": _ref(settings.journal_source, "Journal_Source_ID"),
        "Journal_Entry_Memo": memo,
        "External_Reference_ID": entry.reference,
        "Journal_Entry_Line_Replacement_Data": lines,
    }
    return {"version": settings.version, "Add_Only": True,
            "Business_Process_Parameters": {"Auto_Complete": settings.auto_complete},
            "Accounting_Journal_Data": data}


def journals_by_reference(references: list[str], *, version: str = "v30.0", page: int = 1,
                          count: int = 100) -> dict:
    return {"version": version,
            "Request_References": {"JournalEntryReference": [_ref(r, "Accounting_Journal_ID") for r in references]},
            "Response_Filter": {"Page": page, "Count": count}}


def journal_by_wid(wid: str, *, version: str = "v30.0") -> dict:
    return {"version": version, "Request_References": {"JournalEntryReference": [_ref(wid, "WID")]}}


def journal_action(wid: str, *, version: str = "v30.0") -> dict:
    """Cancel_Accounting_Journal / Unpost-Reverse_Accounting_Journal request data."""
    return {"version": version, "Accounting_Journal_Reference": _ref(wid, "WID"),
            "Financials_Business_Process_Parameters": {"Auto_Complete": True}}


def ledger_account_data(identifier: str, name: str, account_type: str) -> dict:
    return {"Ledger_Account_Identifier": identifier, "Ledger_Account_Name": name,
            "Ledger_Account_Type_Reference": _ref(account_type, "Ledger_Account_Type_ID"), "Retired": False}


def total(lines, side: str) -> Decimal:
    return sum((Decimal(str(line.get(side) or 0)) for line in lines), Decimal(0))


# Where each Expensico field lands in a Workday accounting journal, or why it cannot: rendered
# into connectors/FIDELITY.md, proven by tests/contract/test_fidelity.py.
_NO_FIELD = "an accounting journal has no field for it"
FIDELITY = {
    "description": F.Lands("Journal_Entry_Memo", read=F.memo, expect=lambda e: e.description[:MAX_MEMO]),
    "description_ar": F.Lands("Journal_Entry_Memo", note="when the source has no English one; no second-language "
                              "field", read=F.memo, expect=lambda e: e.description_ar[:MAX_MEMO],
                              prepare=F.arabic_only),
    "merchant": F.Cannot("no merchant text on a journal (Supplier_ID worktag only for a mapped supplier)"),
    "employee": F.Lands("Memo", note="of the paid-through line", read=F.credit_line_text,
                        expect=lambda e: e.employee, prepare=F.with_employee),
    "report": F.Cannot(_NO_FIELD),
    "approved_by": F.Cannot(_NO_FIELD),
    "category": F.Lands("Ledger_Account_Reference", note="the mapped ledger account", read=F.debited_accounts,
                        expect=F.expense_account),
    "expense_type": F.Cannot(_NO_FIELD),
    "dimensions": F.Lands("Worktags_Reference", read=F.has_dimension, expect=F.entry_dimensions),
    "custom_fields": F.Cannot(_NO_FIELD),
    "receipts": F.Lands("Attachment_Data", note="on the journal: wd:Filename, wd:Content_Type, File_Content "
                        "(base64), Comment; at most 20 MiB of receipts a journal",
                        proof="tests/connectors/workday/test_receipts.py::"
                              "test_each_receipt_lands_as_attachment_data_and_reads_back"),
    "exchange_rate": F.Lands("Currency_Rate", note="on each line, with the line's Currency_Reference and amount in "
                             "the document currency; Ledger_Debit/Credit_Amount converted at it to the company "
                             "currency, the journal's; the original currency, amount and rate also in the memo",
                             read=lambda d, e: d.raw["line_rates"],
                             expect=lambda e: tuple((e.currency, e.exchange_rate) for _ in e.lines), prepare=F.foreign),
    "tax": F.Cannot("Tax_Detail_Data names a code without an amount: the tax goes on its own line to the tax account"),
    "tax_treatment": F.Cannot("journal lines hold amounts only; no inclusive/exclusive flag"),
    "card_last4": F.Cannot(_NO_FIELD),
    "bank_reference": F.Cannot("journals carry no bank statement lines; bank-side journals carry our reference"),
}
