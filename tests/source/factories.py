"""Mirror rows for tests, built through the same mirror functions as intake (one code path)."""

import itertools
from datetime import UTC, date, datetime
from decimal import Decimal

from django.db import transaction

from expensico_sync.source import mirror
from expensico_sync.source.models import (
    BankStatementLine,
    CardFunding,
    Category,
    Employee,
    Expense,
    ExpenseReport,
    PullSync,
    Reimbursement,
    WebhookDelivery,
)
from tests.registry import isolation_factory

_seq = itertools.count(1)


def expense_payload(n=None, **over) -> dict:
    n = n or next(_seq)
    base = {
        "id": f"exp_{n}", "version": 1, "type": "expense", "date": "2026-03-01", "merchant": "Jarir",
        "description": "Printer paper", "description_ar": "ورق طابعة",
        "category": {"id": "cat_off", "code": "OFF", "name": "Office supplies"},
        "funding_source": "reimbursable", "card": None, "amount": "115.000", "currency": "SAR",
        "exchange_rate": None, "tax": {"code": "VAT15", "rate": "15.00", "amount": "15.00", "inclusive": True},
        "dimensions": {"cost_center": "CC-100"}, "details": {}, "receipts": [], "custom_fields": {},
    }
    return {**base, **over}


def report_payload(n=None, expenses=None, **over) -> dict:
    n = n or next(_seq)
    base = {
        "id": f"rpt_{n}", "number": f"R-2026-{n:04d}", "title": "March", "approved_at": "2026-03-02T10:00:00Z",
        "employee": {"id": "emp_1", "name": "Aisha Al-Harbi", "email": "aisha@example.com"},
        "approved_by": {"id": "emp_2", "name": "Omar"}, "currency": "SAR",
        "expenses": expenses if expenses is not None else [expense_payload()],
    }
    return {**base, **over}


def _validated_report(payload):
    from expensico_sync.source.schemas import ReportSerializer, validate_object
    return validate_object(ReportSerializer, payload)


def make_report(org, payload=None) -> ExpenseReport:
    payload = payload or report_payload()
    with transaction.atomic():
        mirror.report_upsert(organization=org, report=_validated_report(payload))
    return ExpenseReport.objects.get(organization=org, expensico_id=payload["id"])


@isolation_factory(ExpenseReport)
def _report(org):
    return make_report(org)


@isolation_factory(Expense)
def _expense(org):
    return make_report(org).expenses.get()


@isolation_factory(Employee)
def _employee(org):
    return Employee.objects.create(organization=org, expensico_id=f"emp_{next(_seq)}", name="Someone")


@isolation_factory(Category)
def _category(org):
    n = next(_seq)
    return Category.objects.create(organization=org, expensico_id=f"cat_{n}", code=f"C{n}", name="Cat")


@isolation_factory(CardFunding)
def _funding(org):
    n = next(_seq)
    with transaction.atomic():
        mirror.funding_record(organization=org, direction="in", funding={
            "id": f"fund_{n}", "card": {"id": f"card_{n}", "last4": "1234"}, "employee": {"id": "emp_f", "name": "F"},
            "amount": Decimal("500.00"), "currency": "SAR", "date": date(2026, 3, 1), "bank_reference": "B1",
            "description": "top-up"})
    return CardFunding.objects.get(organization=org, expensico_id=f"fund_{n}")


@isolation_factory(Reimbursement)
def _reimbursement(org):
    n = next(_seq)
    with transaction.atomic():
        mirror.reimbursement_record(organization=org, reimbursement={
            "id": f"reimb_{n}", "employee": {"id": "emp_r", "name": "R"}, "report_ids": [],
            "amount": Decimal("10.00"), "currency": "SAR", "date": date(2026, 3, 1)})
    return Reimbursement.objects.get(organization=org, expensico_id=f"reimb_{n}")


@isolation_factory(BankStatementLine)
def _line(org):
    n = next(_seq)
    return BankStatementLine.objects.create(
        organization=org, expensico_id=f"line_{n}", bank_account_id="ba_1", currency="SAR",
        date=date(2026, 3, 1), amount=Decimal("-5.00"), balance=Decimal("95.00"))


@isolation_factory(WebhookDelivery)
def _delivery(org):
    return WebhookDelivery.objects.create(organization=org, webhook_id=f"msg_{next(_seq)}", body="{}",
                                          outcome="accepted", signature_valid=True,
                                          received_at=datetime.now(tz=UTC))


@isolation_factory(PullSync)
def _pull(org):
    return PullSync.objects.create(organization=org, date_from=date(2026, 1, 1), date_to=date(2026, 1, 31))
