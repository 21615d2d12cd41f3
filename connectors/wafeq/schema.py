"""AccountingEntry → Wafeq payloads. Pure: no network, no database (ARCHITECTURE §2).

A Wafeq expense is single-line: one category account, one paid-through account, one amount
(tax-inclusive, Wafeq splits the VAT itself from `tax_rate`). An entry whose EXPENSE lines all
share account, tax rate and dimensions becomes one expense; anything richer (several categories
on one document) becomes a balanced manual journal, the vendor's multi-line alternative.
Money stays Decimal; the client writes it as a JSON number digit for digit.
"""

from decimal import Decimal

from .. import fidelity as F
from ..entry import ZERO, AccountingEntry, EntryKind, EntryLine, LineRole
from ..errors import UnsupportedEntry
from ..money import round_money

MAX_EXTERNAL_ID = 255
DIMENSION_FIELDS = ("cost_center", "project", "branch")


def _dimensions(line: EntryLine) -> dict:
    out = {}
    for dim in line.dimensions:
        if dim.kind in DIMENSION_FIELDS:
            out[dim.kind] = dim.remote_id
    return out


def _description(entry: AccountingEntry) -> str:
    return entry.description or entry.description_ar or entry.merchant or entry.reference


def is_single_expense(entry: AccountingEntry) -> bool:
    cost = entry.lines_with(LineRole.EXPENSE)
    shapes = {(line.account, line.tax_rate, tuple(sorted(_dimensions(line).items()))) for line in cost}
    return len(shapes) == 1 and len(entry.lines_with(LineRole.PAID_THROUGH)) == 1


def exclusive(entry: AccountingEntry, rates: dict[str, Decimal] | None) -> bool:
    """Whether this expense goes as the source stated it, tax-exclusive: when the source was, and
    Wafeq, computing the VAT from the net at the rate (a fraction), finds the VAT the source states
    (otherwise the gross would move by a minor unit, so it stays inclusive)."""
    cost = entry.lines_with(LineRole.EXPENSE)
    if dict(entry.extra).get("tax_treatment") != "exclusive" or len(cost) != 1 or not cost[0].tax_rate:
        return False
    rate, tax = (rates or {}).get(cost[0].tax_rate), abs(cost[0].tax_amount)
    net = abs(cost[0].net) - tax  # a refund's lines are negative: compare magnitudes
    return rate is not None and round_money(net * rate, entry.currency) == tax


def expense_payload(entry: AccountingEntry, *, attachments: list[str] = (), base_currency: str = "",
                    tax_rates: dict[str, Decimal] | None = None) -> dict:
    if entry.kind is not EntryKind.EXPENSE:
        raise UnsupportedEntry(f"{entry.kind} is not an expense", "kind")
    if not is_single_expense(entry):
        raise UnsupportedEntry("an expense needs one category shape and one paid-through line", "lines")
    cost = entry.lines_with(LineRole.EXPENSE)
    paid_through = entry.lines_with(LineRole.PAID_THROUGH)[0]
    # The paid-through side is what the employee or card actually moved: the gross, tax included.
    amount = -paid_through.net
    first = cost[0]
    payload = {
        "account": first.account,
        "paid_through_account": paid_through.account,
        "amount": amount,
        "currency": entry.currency,
        "date": entry.date.isoformat(),
        "description": _description(entry),
        "reference": entry.reference,
        "external_id": entry.reference[:MAX_EXTERNAL_ID],
        "attachments": list(attachments),
        **_dimensions(first),
    }
    if first.tax_rate:
        payload["tax_rate"] = first.tax_rate
        payload["tax_amount_type"] = "TAX_INCLUSIVE"
        if exclusive(entry, tax_rates):
            tax = abs(first.tax_amount)  # the net is nearer zero than the gross, for a refund too
            payload["amount"] = amount - tax if amount >= 0 else amount + tax
            payload["tax_amount_type"] = "TAX_EXCLUSIVE"
    if entry.contact:
        payload["contact"] = entry.contact
    if entry.exchange_rate is not None and base_currency and entry.currency != base_currency:
        payload["exchange_rate"] = entry.exchange_rate
    return payload


def manual_journal_payload(entry: AccountingEntry, *, attachments: list[str] = (), base_currency: str = "") -> dict:
    """Positive amount = debit, negative = credit (as third-party clients use it)."""
    foreign = entry.exchange_rate is not None and base_currency and entry.currency != base_currency
    in_bcy = entry.converted_nets(base_currency) if foreign else [line.net for line in entry.lines]
    items = []
    for line, amount_to_bcy in zip(entry.lines, in_bcy, strict=True):
        amount = line.net
        item = {"account": line.account, "amount": amount, "currency": entry.currency,
                "amount_to_bcy": amount_to_bcy,
                "description": line.description or _description(entry), **_dimensions(line)}
        if line.tax_rate:
            item["tax_rate"] = line.tax_rate
            item["tax_amount"] = line.tax_amount
        if entry.contact:
            item["contact"] = entry.contact
        items.append(item)
    return {"date": entry.date.isoformat(), "reference": entry.reference,
            "external_id": entry.reference[:MAX_EXTERNAL_ID], "notes": _description(entry),
            "attachments": list(attachments), "tax_amount_type": "TAX_INCLUSIVE", "line_items": items}


def ledger_transaction_payload(entry: AccountingEntry) -> dict:
    """A card top-up or reimbursement payout on the funding bank account. `amount` is signed,
    + into the bank account; `account` is the other side (Employees Balance / Employee Claims)."""
    counterpart = entry.lines_with(LineRole.COUNTERPART)
    if len(counterpart) != 1:
        raise UnsupportedEntry("a ledger bank transaction needs exactly one COUNTERPART line", "lines")
    bank = entry.lines_with(LineRole.BANK)
    amount = entry.amount if entry.amount is not None else sum((line.net for line in bank), ZERO)
    payload = {"account": counterpart[0].account, "amount": amount, "date": entry.date.isoformat(),
               "description": _description(entry), "reference": entry.reference}
    dims = _dimensions(counterpart[0])
    if "project" in dims:
        payload["project"] = dims["project"]
    if entry.contact:
        payload["contact"] = entry.contact
    return payload


def statement_transaction_payload(entry: AccountingEntry, *, statement_balance: Decimal | None = None) -> dict:
    """A bank-feed line. Wafeq requires the balance the bank reported after the line; the source
    sends it as extra["statement_balance"]."""
    extra = dict(entry.extra)
    balance = statement_balance if statement_balance is not None else extra.get("statement_balance")
    if balance is None:
        raise UnsupportedEntry("a statement transaction needs the bank's statement_balance", "statement_balance")
    return {"amount": entry.amount, "date": entry.date.isoformat(), "statement_balance": Decimal(str(balance)),
            "description": _description(entry), "reference": entry.reference,
            "bank_reference": entry.bank_reference or entry.reference}


# Where each Expensico field lands in a Wafeq expense (or manual journal), or why it cannot:
# rendered into connectors/FIDELITY.md, proven by tests/contract/test_fidelity.py.
_NO_FIELD = "a Wafeq expense has no field for it"
FIDELITY = {
    "description": F.Lands("description", read=lambda d, e: d.raw["description"], expect=lambda e: e.description),
    "description_ar": F.Lands("description", note="when the source has no English one; Wafeq has no second-language "
                              "field on expenses or journals", read=lambda d, e: d.raw["description"],
                              expect=lambda e: e.description_ar, prepare=F.arabic_only),
    "merchant": F.Cannot("no merchant text on an expense (a merchant mapped to a Wafeq contact goes in `contact`)"),
    "employee": F.Cannot(_NO_FIELD),
    "report": F.Cannot(_NO_FIELD),
    "approved_by": F.Cannot(_NO_FIELD),
    "category": F.Lands("account", note="the mapped account", read=F.debited_accounts, expect=F.expense_account),
    "expense_type": F.Cannot(_NO_FIELD),
    "dimensions": F.Lands("cost_center, project, branch", note="on an expense, and on each manual-journal line",
                          proof="tests/connectors/test_wafeq_fidelity.py::test_dimensions_land_on_an_expense, "
                                "::test_dimensions_land_on_each_line_of_a_manual_journal"),
    "custom_fields": F.Cannot(_NO_FIELD),
    "receipts": F.Lands("attachments", proof="tests/connectors/test_wafeq_connector.py::"
                        "test_receipts_are_uploaded_and_attached"),
    "exchange_rate": F.Lands("exchange_rate", note="foreign documents, in their own currency",
                             read=lambda d, e: (d.currency, Decimal(str(d.raw["exchange_rate"]))),
                             expect=lambda e: (e.currency, e.exchange_rate), prepare=F.foreign),
    "tax": F.Lands("tax_rate", note="Wafeq computes the amount from the rate", read=F.held_tax, expect=F.sent_tax),
    "tax_treatment": F.Lands("tax_amount_type", note="the source's: an exclusive expense is sent as its net, "
                             "TAX_EXCLUSIVE, where Wafeq's VAT on it is the stated one",
                             read=lambda d, e: (d.raw["tax_amount_type"], d.amount),
                             expect=lambda e: ("TAX_EXCLUSIVE", e.gross), prepare=F.exclusive_tax),
    "card_last4": F.Cannot(_NO_FIELD),
    "bank_reference": F.Lands("bank_reference", note="statement transactions",
                              proof="tests/connectors/test_wafeq_fidelity.py::"
                                    "test_the_bank_reference_lands_on_a_statement_transaction"),
}
