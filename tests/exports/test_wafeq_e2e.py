"""End to end over real HTTP: mirror → records → worker → the Wafeq connector → the Wafeq sandbox."""

import pytest

from connectors.models import CallLog
from connectors.wafeq.sandbox import testkit
from exports.models import ExportRecord
from exports.services.worker import records_work_due
from exports.transitions import Status
from mappings.models import CategoryMapping

from .conftest import approve, cancel, deliver, expense

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sandbox():
    server = testkit.start_sandbox()
    yield server
    server.stop()


@pytest.fixture
def books(org, sandbox):
    connection = testkit.connect(sandbox, org)
    account = testkit._expense_account(sandbox.app)
    for code in ("TRAVEL", "MEALS"):
        CategoryMapping.objects.create(connection=connection, category_code=code, account=account)
    return connection


def work():
    from django.utils import timezone

    ExportRecord.objects.filter(status__in=[Status.RETRY, Status.OUTCOME_UNKNOWN]).update(
        next_attempt_at=timezone.now())
    return records_work_due(limit=100)


def test_expenses_bank_side_and_a_reversal_reach_the_sandbox(org, books, sandbox):
    approve(org, expense("exp_1"), expense("exp_2", amount="40.00", category="MEALS",
                                           funding_source="card", card={"id": "card_1", "last4": "4242"}))
    deliver(org, "card.funded", {"funding": {
        "id": "fnd_1", "card": {"id": "card_1", "last4": "4242"}, "employee": {"id": "emp_1", "name": "Noura"},
        "amount": "500.00", "currency": "SAR", "date": "2026-11-01", "bank_reference": "TRX1", "description": ""}})
    work()  # the doorbell (on commit, tasks inline) has usually done it already
    assert set(ExportRecord.objects.values_list("status", flat=True)) == {"exported"}, list(
        ExportRecord.objects.values("reference", "status", "last_error"))
    assert ExportRecord.objects.count() == 3
    assert len(testkit.held(sandbox, "EXPENSICO-exp_1-v1")) == 1
    assert len(testkit.held(sandbox, "EXPENSICO-exp_2-v1")) == 1

    cancel(org, "exp_1")
    work()
    assert testkit.held(sandbox, "EXPENSICO-exp_1-v1") == []
    assert ExportRecord.objects.get(kind="reversal").status == Status.EXPORTED


def test_lost_responses_are_reconciled_not_duplicated(org, books, sandbox):
    sandbox.app.inject("drop_after_commit", count=10, method="POST")
    approve(org, expense("exp_1"))  # the doorbell's attempt commits at Wafeq, the answer is lost
    assert ExportRecord.objects.get().status == Status.OUTCOME_UNKNOWN
    sandbox.app.clear_faults()
    assert work() == {"exported": 1}
    record = ExportRecord.objects.get()
    assert record.export_attempts.last().outcome == "reconciled"
    assert len(testkit.held(sandbox, "EXPENSICO-exp_1-v1")) == 1


def test_a_long_rate_limit_makes_the_record_wait(org, books, sandbox):
    sandbox.app.inject("rate_limit", count=1, method="POST", retry_after="600")
    approve(org, expense("exp_1"))
    record = ExportRecord.objects.get()
    assert record.attempts == 0 and record.wait_reason == "rate limited"
    assert work() == {"exported": 1}


def test_wafeq_refusal_is_caught_before_sending_and_goes_to_review(org, books, sandbox):
    """An account Wafeq does not have: pre-flight catches it from the cached chart, nothing is sent."""
    CategoryMapping.objects.filter(connection=books, category_code="TRAVEL").update(account="acc_doesNotExist000000000")
    approve(org, expense("exp_1"))
    work()
    item = ExportRecord.objects.get().review_items.get()
    assert item.reason == "preflight_failed" and item.context["field"] == "lines[0].account", item.context
    assert "does not exist" in item.detail and item.context["fix"]
    assert not CallLog.objects.filter(connection=books, method="POST", path__contains="/expenses").exists()


def test_statement_lines_reach_the_bank_feed_with_their_balance(org, books, sandbox):
    lines = [{"id": "ln_1", "date": "2026-11-01", "amount": "-500.00", "balance": "9500.00",
              "description": "Card top-up", "reference": "TOPUP", "bank_reference": "TRX1"},
             {"id": "ln_2", "date": "2026-11-02", "amount": "1200.00", "balance": "10700.00",
              "description": "Transfer in", "reference": "", "bank_reference": "TRX2"}]
    account = {"id": "ba_1", "name": "Funding", "currency": "SAR", "iban": "SA0380000000608010167519"}
    deliver(org, "bank_statement.published", {"bank_account": account, "lines": lines})
    deliver(org, "bank_statement.published", {"bank_account": account, "lines": lines[1:]})  # repeated line
    work()
    records = ExportRecord.objects.filter(kind="statement_transaction")
    assert records.count() == 2
    assert set(records.values_list("status", flat=True)) == {"exported"}, list(records.values("last_error"))
