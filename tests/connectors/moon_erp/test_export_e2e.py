"""End to end over real HTTP: mirror → records → worker → the Moon ERP connector → its sandbox.
Only the Connector interface is involved on the engine's side; nothing here is Moon-specific
except the sandbox assertions."""

from datetime import timedelta

import pytest
from django.utils import timezone

from connectors.moon_erp import schema
from connectors.moon_erp.client import MoonClient
from connectors.moon_erp.sandbox import testkit
from expensico_sync.core.models import Organization
from exports.models import ExportRecord
from exports.services.claiming import lease_seconds
from exports.services.sweeper import leases_expire
from exports.services.worker import records_work_due
from exports.transitions import Status
from mappings.models import CategoryMapping, TaxMapping
from tests.exports.conftest import approve, cancel, deliver, expense

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sandbox():
    server = testkit.start_sandbox()
    yield server
    server.stop()


@pytest.fixture
def live_org(db):
    return Organization.objects.create(slug="moon", name="Moon customer", base_currency="SAR", mode="live")


@pytest.fixture
def books(live_org, sandbox):
    connection = testkit.connect(sandbox, live_org)
    CategoryMapping.objects.create(connection=connection, category_code="TRAVEL", account="category:2")
    CategoryMapping.objects.create(connection=connection, category_code="MEALS", account="category:3")
    TaxMapping.objects.create(connection=connection, tax_code="VAT15", tax_rate="1")
    return connection


def work():
    ExportRecord.objects.filter(status__in=[Status.RETRY, Status.OUTCOME_UNKNOWN]).update(
        next_attempt_at=timezone.now())
    return records_work_due(limit=100)


def records():
    return list(ExportRecord.objects.values("reference", "kind", "status", "last_error"))


def test_expenses_and_a_reversal_reach_moon(live_org, books, sandbox):
    approve(live_org, expense("exp_1"), expense("exp_2", amount="46.00", category="MEALS",
                                                tax={"code": "VAT15", "rate": "15", "amount": "6.00",
                                                     "inclusive": True}))
    work()
    assert set(ExportRecord.objects.values_list("status", flat=True)) == {"exported"}, records()
    [taxi] = testkit.held(sandbox, "EXPENSICO-exp_1-v1")
    [meal] = testkit.held(sandbox, "EXPENSICO-exp_2-v1")
    assert (taxi["status"], taxi["total_amount"], taxi["tax_amount"]) == ("approved", "115.000", "0.000")
    assert (meal["status"], meal["amount"], meal["tax_amount"], meal["total_amount"]) == (
        "approved", "40.000", "6.000", "46.000")

    cancel(live_org, "exp_1")
    work()
    assert testkit.held(sandbox, "EXPENSICO-exp_1-v1") == []
    assert ExportRecord.objects.get(kind="reversal").status == Status.EXPORTED
    cancelled = next(d for d in sandbox.app.documents() if d["id"] == taxi["id"])
    assert cancelled["status"] == "cancelled"


def test_lost_responses_are_reconciled_not_duplicated(live_org, books, sandbox):
    sandbox.app.inject("drop_after_commit", count=10, method="POST")
    approve(live_org, expense("exp_1"))
    assert ExportRecord.objects.get().status == Status.OUTCOME_UNKNOWN, records()
    sandbox.app.clear_faults()
    work()
    work()
    assert ExportRecord.objects.get().status == Status.EXPORTED, records()
    [row] = testkit.held(sandbox, "EXPENSICO-exp_1-v1")
    assert row["status"] == "approved"
    assert len([d for d in sandbox.app.documents() if "EXPENSICO-exp_1-v1" in (d["notes"] or "")]) == 1


class Killed(BaseException):
    """SIGKILL: nothing after it runs in the dying worker, not even the call log write."""


def die(*args, **kwargs):
    raise Killed()


def test_a_worker_killed_during_the_create_leaves_one_booked_expense(live_org, books, sandbox, monkeypatch):
    sandbox.app.inject("drop_after_commit", count=1, method="POST", path="/expenses")
    with monkeypatch.context() as m:
        m.setattr(MoonClient, "_log", die)
        with pytest.raises(Killed):
            approve(live_org, expense("exp_1"))
    assert ExportRecord.objects.get().status == Status.IN_PROGRESS
    leases_expire(now=timezone.now() + timedelta(seconds=lease_seconds() + 1))
    work()
    record = ExportRecord.objects.get()
    assert record.status == Status.EXPORTED, records()
    mine = [d for d in sandbox.app.documents() if schema.holds_reference(d, "EXPENSICO-exp_1-v1")]
    assert [(str(d["id"]), d["status"], d["deleted_at"]) for d in mine] == [(record.external_id, "approved", None)]


def test_a_tax_mismatch_becomes_a_review_item(live_org, books, sandbox):
    approve(live_org, expense("exp_1", amount="10.00", category="MEALS",
                              tax={"code": "VAT15", "rate": "15", "amount": "1.30", "inclusive": True}))
    work()
    item = ExportRecord.objects.get().review_items.get()
    assert item.reason == "validation" and item.context == {"code": "amount_mismatch", "field": "tax_amount"}
    assert sandbox.app.ledger()["journal_entries"] == []


def test_bank_side_documents_go_to_review_not_to_moon(live_org, books, sandbox):
    deliver(live_org, "card.funded", {"funding": {
        "id": "fnd_1", "card": {"id": "card_1", "last4": "4242"}, "employee": {"id": "emp_1", "name": "Noura"},
        "amount": "500.00", "currency": "SAR", "date": "2026-11-01", "bank_reference": "TRX1", "description": ""}})
    work()
    record = ExportRecord.objects.get()
    # Moon's API has no journal or bank-transaction endpoint: "not supported by this system", not a failure.
    assert record.status == Status.CANCELLED and record.vendor_status == "unsupported"
    assert record.last_error.startswith("not supported by this system (Moon ERP)")
    assert sandbox.app.ledger()["expenses"] == []
