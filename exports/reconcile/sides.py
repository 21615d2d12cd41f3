"""The three views of one connection × month: what Expensico says, what we booked, what the
vendor's ledger holds. Each is a sheet: net debit − credit per (account, currency)."""

import calendar
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Q

from connectors.money import round_money
from expensico_sync.source.models import BankStatementLine, CardFunding, Expense, Reimbursement
from mappings.resolve import tax_split

from ..models import ExportRecord, Kind
from ..transitions import Status
from .documents import entry_gross, entry_nets
from .verify import LEDGER_KINDS

ZERO = Decimal("0")
# Expenses not resolved to an account yet sit on "unmapped:<category code>" (no vendor id looks so).
UNMAPPED = "unmapped:"
Sheet = dict[tuple[str, str], Decimal]


def month_range(period: date) -> tuple[date, date]:
    return period, period.replace(day=calendar.monthrange(period.year, period.month)[1])


def new_sheet() -> Sheet:
    return defaultdict(lambda: ZERO)


@dataclass
class SourceDoc:
    """One Expensico document of the month and where it stands for this connection."""
    kind: str                          # expense · card_funding · reimbursement
    source_id: str
    version: int
    currency: str
    gross: Decimal                     # signed as Expensico states it (a refund is negative)
    record: ExportRecord | None = None
    bank_reference: str = ""


@dataclass
class ExpensicoSide:
    sheet: Sheet = field(default_factory=new_sheet)
    documents: list[SourceDoc] = field(default_factory=list)
    statement_lines: list[BankStatementLine] = field(default_factory=list)


def _records_by_source(connection, kind: str, ids: list[str]) -> dict[tuple[str, int], ExportRecord]:
    records = ExportRecord.objects.filter(connection=connection, kind=kind, source_id__in=ids)
    return {(r.source_id, r.source_version): r for r in records}


def _expense_gross(expense: Expense, record: ExportRecord | None) -> tuple[Decimal, str]:
    if record is not None and record.entry_preview:
        gross, currency = entry_gross(record.entry_preview), record.entry_preview["currency"]
    else:
        magnitude = round_money(abs(expense.amount), expense.currency)
        net, tax = tax_split(magnitude, expense.tax_rate or ZERO, expense.tax_inclusive is not False,
                             expense.currency)
        gross, currency = net + tax, expense.currency
    return (gross if expense.amount >= 0 else -gross), currency


def expensico_side(connection, period: date) -> ExpensicoSide:
    """Card spend and claims by paid-through account, fundings, unloads and reimbursements, and
    expenses by account (through the entry we resolved, or `unmapped:<category code>` before that)."""
    start, end = month_range(period)
    org = connection.organization_id
    balance, claims, bank = (connection.employees_balance_account, connection.employee_claims_account,
                             connection.funding_bank_account)
    side = ExpensicoSide()
    expenses = list(Expense.objects.filter(organization_id=org, status=Expense.Status.APPROVED,
                                           date__range=(start, end)).select_related("category"))
    records = _records_by_source(connection, Kind.EXPENSE, [e.expensico_id for e in expenses])
    for expense in expenses:
        record = records.get((expense.expensico_id, expense.version))
        gross, currency = _expense_gross(expense, record)
        paid_through = balance if expense.funding_source == Expense.FundingSource.CARD else claims
        side.sheet[(paid_through, currency)] -= gross
        if record is not None and record.entry_preview:
            for account, net in entry_nets(record.entry_preview).items():
                if account != paid_through:
                    side.sheet[(account, currency)] += net
        else:
            side.sheet[(f"{UNMAPPED}{expense.category.code}", currency)] += gross
        side.documents.append(SourceDoc("expense", expense.expensico_id, expense.version, currency, gross, record))
    fundings = list(CardFunding.objects.filter(organization_id=org, date__range=(start, end)))
    records = _records_by_source(connection, Kind.LEDGER_BANK_TRANSACTION, [f.expensico_id for f in fundings])
    for funding in fundings:
        into_card = funding.amount if funding.direction == CardFunding.Direction.IN else -funding.amount
        side.sheet[(balance, funding.currency)] += into_card
        side.sheet[(bank, funding.currency)] -= into_card
        side.documents.append(SourceDoc("card_funding", funding.expensico_id, 1, funding.currency, into_card,
                                        records.get((funding.expensico_id, 1)), funding.bank_reference))
    paid = list(Reimbursement.objects.filter(organization_id=org, date__range=(start, end)))
    records = _records_by_source(connection, Kind.LEDGER_BANK_TRANSACTION, [r.expensico_id for r in paid])
    for reimbursement in paid:
        side.sheet[(claims, reimbursement.currency)] += reimbursement.amount
        side.sheet[(bank, reimbursement.currency)] -= reimbursement.amount
        side.documents.append(SourceDoc("reimbursement", reimbursement.expensico_id, 1, reimbursement.currency,
                                        reimbursement.amount, records.get((reimbursement.expensico_id, 1)),
                                        reimbursement.bank_reference))
    side.statement_lines = list(BankStatementLine.objects.filter(organization_id=org, date__range=(start, end)))
    return side


def booked_records(connection, period: date) -> list[ExportRecord]:
    """Our exported ledger documents whose entry is dated in the month (a reversal posted later
    belongs to the month it posted in)."""
    start, end = month_range(period)
    candidates = ExportRecord.objects.filter(
        Q(document_date__range=(start, end)) | Q(exported_at__date__gte=start),
        connection=connection, status=Status.EXPORTED, kind__in=LEDGER_KINDS, entry_preview__isnull=False)
    return [r for r in candidates.order_by("pk")
            if start.isoformat() <= r.entry_preview["date"] <= end.isoformat()]


def booked_sheet(records: list[ExportRecord]) -> Sheet:
    sheet = new_sheet()
    for record in records:
        currency = record.entry_preview["currency"]
        for account, net in entry_nets(record.entry_preview).items():
            sheet[(account, currency)] += net
    return sheet
