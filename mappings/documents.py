"""Frozen inputs of `resolve`: what it needs of a source document and nothing more.

The adapters read the source mirror models (expensico_sync.source), so `resolve` itself never
touches the database and can be property-tested with thousands of generated documents.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from connectors.entry import Attachment


@dataclass(frozen=True)
class ExpenseDocument:
    source_id: str
    version: int
    type: str                       # expense | mileage | per_diem | driver_honorarium
    date: date
    amount: Decimal                 # gross as Expensico states it; negative for a refund
    currency: str
    category_code: str
    funding_source: str             # reimbursable | card
    category_name: str = ""
    merchant: str = ""
    description: str = ""
    description_ar: str = ""
    exchange_rate: Decimal | None = None   # Expensico's rate from `currency` to `report_currency`
    report_currency: str = ""
    tax_code: str = ""
    tax_rate: Decimal | None = None        # percent
    tax_amount: Decimal | None = None
    tax_inclusive: bool | None = None
    dimensions: tuple[tuple[str, str], ...] = ()
    custom_fields: tuple[tuple[str, str], ...] = ()
    employee_id: str = ""
    employee_name: str = ""
    report_id: str = ""
    report_number: str = ""
    card_last4: str = ""
    has_receipts: bool = True
    attachments: tuple[Attachment, ...] = ()
    cancelled: bool = False


@dataclass(frozen=True)
class FundingDocument:
    source_id: str
    direction: str                  # in: bank → card; out: card → bank
    amount: Decimal                 # positive
    currency: str
    date: date
    employee_name: str = ""
    card_last4: str = ""
    bank_reference: str = ""
    description: str = ""
    version: int = 1


@dataclass(frozen=True)
class ReimbursementDocument:
    source_id: str
    amount: Decimal                 # positive
    currency: str
    date: date
    employee_name: str = ""
    report_numbers: tuple[str, ...] = ()
    bank_reference: str = ""
    description: str = ""
    version: int = 1
    # The reimbursable expenses of the reports it pays: their booked value is what it settles.
    claims: tuple[ExpenseDocument, ...] = ()


@dataclass(frozen=True)
class StatementLineDocument:
    source_id: str
    amount: Decimal                 # signed: + into the bank account
    currency: str
    date: date
    bank_account_id: str = ""
    description: str = ""
    reference: str = ""
    bank_reference: str = ""
    version: int = 1
    balance: Decimal | None = None  # the bank's balance after the line (Wafeq requires it)


def _dimensions(raw) -> tuple[tuple[str, str], ...]:
    if not isinstance(raw, dict):
        return ()
    return tuple(sorted((str(k), str(v)) for k, v in raw.items() if v not in (None, "")))


def document_from_expense(expense) -> ExpenseDocument:
    """Reads a `source.Expense` (with report, category, card, employee and receipts)."""
    report = expense.report
    category = expense.category
    employee = expense.employee
    receipts = list(expense.receipts.all())
    return ExpenseDocument(
        source_id=expense.expensico_id,
        version=expense.version,
        type=expense.type,
        date=expense.date,
        amount=expense.amount,
        currency=expense.currency,
        category_code=category.code if category else "",
        category_name=category.name if category else "",
        funding_source=expense.funding_source,
        merchant=expense.merchant or "",
        description=expense.description or "",
        description_ar=expense.description_ar or "",
        exchange_rate=expense.exchange_rate,
        report_currency=report.currency if report else "",
        tax_code=expense.tax_code or "",
        tax_rate=expense.tax_rate,
        tax_amount=expense.tax_amount,
        tax_inclusive=expense.tax_inclusive,
        dimensions=_dimensions(expense.dimensions),
        custom_fields=_dimensions(expense.custom_fields),
        employee_id=employee.expensico_id if employee else "",
        employee_name=employee.name if employee else "",
        report_id=report.expensico_id if report else "",
        report_number=report.number if report else "",
        card_last4=expense.card.last4 if expense.card_id else "",
        has_receipts=bool(receipts),
        attachments=tuple(
            Attachment(source_id=r.expensico_id, filename=r.filename, content_type=r.content_type,
                       sha256=r.sha256, size=r.size or 0, storage_path=r.file.name if r.file else "")
            for r in receipts),
        cancelled=expense.status == "cancelled",
    )


def document_from_funding(funding) -> FundingDocument:
    return FundingDocument(
        source_id=funding.expensico_id, direction=funding.direction, amount=funding.amount,
        currency=funding.currency, date=funding.date,
        employee_name=funding.employee.name if funding.employee_id else "",
        card_last4=funding.card.last4 if funding.card_id else "",
        bank_reference=funding.bank_reference or "", description=funding.description or "")


def document_from_reimbursement(reimbursement) -> ReimbursementDocument:
    return ReimbursementDocument(
        source_id=reimbursement.expensico_id, amount=reimbursement.amount, currency=reimbursement.currency,
        date=reimbursement.date,
        employee_name=reimbursement.employee.name if reimbursement.employee_id else "",
        report_numbers=tuple(sorted(r.number for r in reimbursement.reports.all())),
        bank_reference=reimbursement.bank_reference or "", description=reimbursement.description or "",
        claims=tuple(document_from_expense(e) for r in reimbursement.reports.all()
                     for e in r.expenses.filter(funding_source="reimbursable", status="approved")
                     .order_by("expensico_id")))


def document_from_statement_line(line) -> StatementLineDocument:
    return StatementLineDocument(
        source_id=line.expensico_id, amount=line.amount, currency=line.currency, date=line.date,
        bank_account_id=line.bank_account_id or "", description=line.description or "",
        reference=line.reference or "", bank_reference=line.bank_reference or "", balance=line.balance)
