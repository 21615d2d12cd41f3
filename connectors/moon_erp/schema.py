"""AccountingEntry → Moon ERP expense payloads, and the checks on what Moon computed. Pure: no
network, no database (ARCHITECTURE §2).

A Moon expense is single-category: one expense category (whose GL account Moon debits), one
optional tax rate (Moon computes `tax_amount = amount * rate / 100` itself and debits the rate's tax
account), one paying account credited with the total, one cost centre and branch. So an entry
becomes one expense when its EXPENSE lines share category, tax rate and dimensions; anything
richer is refused (a Permanent error → review) rather than booked differently from our entry.

Remote ids: expense categories and GL accounts are separate Moon tables with overlapping bigint
ids, so categories are catalogued as `category:<id>` and GL accounts as plain `<id>`.
Moon has no currency field: every expense is in the company's currency (a foreign one converted).
"""

import dataclasses
import re
from dataclasses import dataclass
from decimal import Decimal

from .. import fidelity as F
from ..entry import ZERO, AccountingEntry, EntryKind, LineRole
from ..errors import UnsupportedEntry
from ..money import fits_minor_unit, round_money

CATEGORY_PREFIX = "category:"
DESCRIPTION_MAX = 255
MOON_DECIMALS = Decimal("0.001")          # decimal(12,3)
DIMENSION_FIELDS = {"cost_center": "cost_center_id", "branch": "branch_id"}
PAYMENT_METHODS = ("cash", "check", "bank_transfer", "card", "mixed")


@dataclass(frozen=True)
class Expected:
    """What our entry says Moon must end up holding; compared with Moon's own computation."""

    amount: Decimal
    tax_amount: Decimal
    total_amount: Decimal


def category_remote_id(category_id) -> str:
    return f"{CATEGORY_PREFIX}{category_id}"


def moon_id(remote_id: str | None, field: str, *, prefix: str = "") -> int | None:
    if remote_id in (None, ""):
        return None
    text = str(remote_id)
    if prefix:
        if not text.startswith(prefix):
            raise UnsupportedEntry(f"{text!r} is not a Moon expense category; map the category to one", field)
        text = text[len(prefix):]
    if not text.isdigit():
        raise UnsupportedEntry(f"{remote_id!r} is not a Moon id", field)
    return int(text)


def money(value: Decimal) -> str:
    """Moon's wire format: a string with three decimals ("1500.000"), never a float."""
    return format(value.quantize(MOON_DECIMALS), "f")


def reference_pattern(reference: str) -> re.Pattern:
    # EXPENSICO-x-v1 must not match EXPENSICO-x-v10: the reference is a whole token.
    return re.compile(r"(?<![\w-])" + re.escape(reference) + r"(?![\w-])")


def holds_reference(row: dict, reference: str) -> bool:
    pattern = reference_pattern(reference)
    return bool(pattern.search(row.get("notes") or "") or pattern.search(row.get("description") or ""))


def _description(entry: AccountingEntry) -> str:
    suffix = f" [{entry.reference}]"
    text = entry.description or entry.merchant or "Expense"
    return text[: DESCRIPTION_MAX - len(suffix)] + suffix


def _notes(entry: AccountingEntry) -> str:
    # The reference on the first line is what duplicate detection matches (no reference filter exists).
    lines = [entry.reference]
    extra = dict(entry.extra)
    for label, value in (("Employee", entry.employee), ("Merchant", entry.merchant), ("Source", entry.source_id),
                         ("Report", extra.get("report", "")), ("Type", extra.get("expense_type", ""))):
        if value:
            lines.append(f"{label}: {value}")
    return "\n".join(lines)


def _shape(line) -> tuple:
    dims = tuple(sorted((d.kind, d.remote_id) for d in line.dimensions))
    return line.account, line.tax_rate or None, dims


def _refuse_foreign_dimensions(entry: AccountingEntry) -> None:
    # A mapped value is one a person asked to see in the books: dropping it would book the
    # expense without it and say nothing.
    for line in entry.lines:
        for dim in line.dimensions:
            if dim.kind not in DIMENSION_FIELDS:
                raise UnsupportedEntry(
                    f"Moon ERP expenses carry a cost centre and a branch only; the {dim.kind} dimension "
                    f"{dim.label or dim.remote_id!r} has nowhere to go (map it to a cost_center or branch, "
                    f"or leave its remote id blank so it is not sent)", dim.kind, code="unsupported_dimension")


def expense_payload(entry: AccountingEntry, *, company_currency: str = "", card_account: str = "",
                    base_currency: str = "") -> tuple[dict, Expected]:
    """The POST /api/accounting/expenses body, and the figures Moon must compute from it.

    `card_account` is the Employees Balance account: spend paid through it is a card payment,
    everything else (claims) is booked as cash owed to the employee. A foreign entry is converted
    to the company currency at its own rate (which is to `base_currency`), its original currency,
    amount and rate kept in the notes."""
    if entry.kind is EntryKind.REVERSAL:
        raise UnsupportedEntry("a reversal is not pushed: Moon reverses by cancelling the expense", "kind")
    if entry.kind is not EntryKind.EXPENSE:
        raise UnsupportedEntry(f"Moon ERP's API books expenses only; a {entry.kind} has no Moon endpoint "
                               "(record it in Moon by hand, then resolve this item)", "kind")
    converting = bool(company_currency) and entry.currency != company_currency
    if converting and (entry.exchange_rate is None or (base_currency and base_currency != company_currency)):
        raise UnsupportedEntry(f"Moon ERP books in the company currency {company_currency} only; this {entry.currency} "
                               f"entry has no rate to it", "exchange_rate")
    cost = entry.lines_with(LineRole.EXPENSE)
    taxes = entry.lines_with(LineRole.TAX)
    paid = entry.lines_with(LineRole.PAID_THROUGH)
    if not cost:
        raise UnsupportedEntry("a Moon expense needs an EXPENSE line", "lines")
    _refuse_foreign_dimensions(entry)
    if len(paid) != 1 or len(entry.lines) != len(cost) + len(taxes) + 1:
        raise UnsupportedEntry("a Moon expense has one paying account and only expense and tax lines", "lines")
    if any(line.credit for line in (*cost, *taxes)) or paid[0].debit:
        raise UnsupportedEntry("Moon expenses are never negative; a refund cannot be booked as an expense", "amount")
    shapes = {_shape(line) for line in cost}
    if len(shapes) != 1:
        raise UnsupportedEntry(f"a Moon expense has one category, tax rate, cost centre and branch; this entry has "
                               f"{len(shapes)} combinations", "lines")
    category, tax_rate, dims = shapes.pop()
    stray = {line.tax_rate for line in taxes if line.tax_rate} - {tax_rate}
    if stray:
        raise UnsupportedEntry("the separate tax line's rate differs from the expense's", "tax_rate_id")

    gross = paid[0].credit
    if tax_rate:
        tax = sum((line.tax_amount for line in cost if line.tax_inclusive), ZERO) + sum(
            (line.debit for line in taxes), ZERO)
    else:
        # No tax rate mapped: the tax stays in the cost, as the mapping asked ("post without a rate").
        tax = ZERO
    if converting:
        assert entry.exchange_rate is not None  # `converting` requires it
        # Gross and tax converted once each, the net derived: nothing is lost to rounding.
        gross, tax = (round_money(v * entry.exchange_rate, company_currency) for v in (gross, tax))
    net = gross - tax
    if net <= 0:
        raise UnsupportedEntry("the amount before tax must be positive", "amount")
    payload = {
        "date": entry.date.isoformat(),
        "expense_category_id": moon_id(category, "expense_category_id", prefix=CATEGORY_PREFIX),
        "description": _description(entry),
        "amount": money(net),
        "payment_method": "card" if card_account and paid[0].account == card_account else "cash",
        "paying_account_id": moon_id(paid[0].account, "paying_account_id"),
        "notes": _notes(entry) + (f"\nOriginal: {entry.original_note()}" if converting else ""),
    }
    if entry.description_ar:
        payload["description_ar"] = entry.description_ar[:DESCRIPTION_MAX]
    if tax_rate:
        payload["tax_rate_id"] = moon_id(tax_rate, "tax_rate_id")
    for kind, remote_id in dims:
        payload[DIMENSION_FIELDS[kind]] = moon_id(remote_id, DIMENSION_FIELDS[kind])
    if entry.contact:
        payload["partner_id"] = moon_id(entry.contact, "partner_id")
    return payload, Expected(amount=net, tax_amount=tax, total_amount=gross)


def mismatches(expected: Expected, row: dict, currency: str, *, tolerance: Decimal = ZERO) -> list[tuple[str, str]]:
    """(field, explanation) for every figure Moon computed differently from our entry. Compared at
    the currency's minor unit: a 3-decimal Moon figure that rounds to ours is the same money.
    Differences up to `tolerance` (a connection setting, 0 unless a person chose otherwise) pass."""
    out = []
    for field in ("amount", "tax_amount", "total_amount"):
        ours = getattr(expected, field)
        theirs = Decimal(str(row.get(field) if row.get(field) is not None else "0"))
        same = round_money(theirs, currency) == ours if not fits_minor_unit(theirs, currency) else theirs == ours
        if not same and abs(theirs - ours) > tolerance:
            out.append((field, f"Moon computed {field} {theirs}, our entry says {ours}"))
    return out


def is_live(row: dict) -> bool:
    return row.get("status") == "approved" and not row.get("deleted_at")


def _note_line(label: str) -> F.Reader:
    return lambda doc, entry: next((line for line in (doc.raw.get("notes") or "").splitlines()
                                    if line.startswith(f"{label}: ")), "")


# Where each Expensico field lands in a Moon ERP expense, or why it cannot: rendered into
# connectors/FIDELITY.md, proven by tests/contract/test_fidelity.py.
_NO_FIELD = "a Moon expense has no field for it"
FIDELITY = {
    "description": F.Lands("description", note="followed by our reference",
                           read=lambda d, e: d.raw["description"], expect=_description),
    "description_ar": F.Lands("description_ar", read=lambda d, e: d.raw["description_ar"],
                              expect=lambda e: e.description_ar[:DESCRIPTION_MAX]),
    "merchant": F.Lands("notes", note="a Merchant: line (a merchant mapped to a partner goes in partner_id)",
                        read=_note_line("Merchant"), expect=lambda e: f"Merchant: {e.merchant}"),
    "employee": F.Lands("notes", note="an Employee: line", read=_note_line("Employee"),
                        expect=lambda e: f"Employee: {e.employee}"),
    "report": F.Lands("notes", note="a Report: line with the report number; the title is not sent",
                      read=_note_line("Report"), expect=lambda e: f"Report: {dict(e.extra)['report']}",
                      prepare=lambda e: dataclasses.replace(e, extra=(*e.extra, ("report", "R-2026-0042")))),
    "approved_by": F.Cannot(_NO_FIELD + " (Moon's approved_by is its own user)"),
    "category": F.Lands("expense_category_id", note="the mapped Moon category", read=F.debited_accounts,
                        expect=F.expense_account),
    "expense_type": F.Lands("notes", note="a Type: line; the type's details are not sent", read=_note_line("Type"),
                            expect=lambda e: f"Type: {dict(e.extra)['expense_type']}",
                            prepare=lambda e: dataclasses.replace(e, extra=(*e.extra, ("expense_type", "mileage")))),
    "dimensions": F.Lands("cost_center_id, branch_id", proof="tests/connectors/moon_erp/test_connector.py::"
                          "test_dimensions_and_card_payments_reach_moon"),
    "custom_fields": F.Cannot(_NO_FIELD),
    "receipts": F.Cannot("the expense API takes no attachment"),
    "exchange_rate": F.Lands("notes", note="converted to the company currency at it, an Original: line keeps "
                             "currency, amount and rate (Moon has no currency field)",
                             proof="tests/connectors/moon_erp/test_fidelity.py::"
                                   "test_a_foreign_claim_books_converted_with_the_original_in_the_notes"),
    "tax": F.Lands("tax_rate_id", note="Moon computes tax_amount, compared with ours after the push",
                   read=F.held_tax, expect=F.sent_tax),
    "tax_treatment": F.Lands("amount", note="always before tax, Moon adds the tax: both treatments book the same "
                             "net, tax and total", read=lambda d, e: Decimal(d.raw["amount"]),
                             expect=lambda e: e.lines_with(LineRole.EXPENSE)[0].debit
                             - e.lines_with(LineRole.EXPENSE)[0].tax_amount),
    "card_last4": F.Cannot(_NO_FIELD + " (a card payment is payment_method card)"),
    "bank_reference": F.Cannot("the API books expenses only; bank-side documents are not sent"),
}
