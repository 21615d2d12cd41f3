"""End to end over real HTTP: mirror → export records → worker → Workday connector → SOAP sandbox."""

import pytest
from django.utils import timezone

from connectors.workday.sandbox import testkit
from expensico_sync.core.models import Organization
from exports.models import ExportRecord
from exports.services.worker import records_work_due
from exports.transitions import Status
from mappings.models import CategoryMapping, DimensionMapping
from tests.exports.conftest import approve, cancel, deliver, expense

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def live_org(db):
    return Organization.objects.create(slug="wd-e2e", name="WD e2e", base_currency="SAR", mode="live")


@pytest.fixture
def sandbox():
    server = testkit.start_sandbox()
    yield server
    server.stop()


@pytest.fixture
def books(live_org, sandbox):
    connection = testkit.connect(sandbox, live_org)
    CategoryMapping.objects.create(connection=connection, category_code="TRAVEL", account="Standard/6100")
    CategoryMapping.objects.create(connection=connection, category_code="MEALS", account="Standard/6200")
    DimensionMapping.objects.create(connection=connection, dimension_key="cost_center", value="CC-100",
                                    remote_kind="worktag:Cost_Center_Reference_ID", remote_id="CC100",
                                    remote_name="Finance")
    return connection


def work():
    ExportRecord.objects.filter(status__in=[Status.RETRY, Status.OUTCOME_UNKNOWN]).update(
        next_attempt_at=timezone.now())
    return records_work_due(limit=100)


def test_expenses_funding_and_a_cancellation_reach_workday(live_org, books, sandbox):
    approve(live_org, expense("exp_1", dimensions={"cost_center": "CC-100"}),
            expense("exp_2", amount="40.00", category="MEALS", funding_source="card",
                    card={"id": "card_1", "last4": "4242"}, dimensions={"cost_center": "CC-100"}))
    deliver(live_org, "card.funded", {"funding": {
        "id": "fnd_1", "card": {"id": "card_1", "last4": "4242"}, "employee": {"id": "emp_1", "name": "Noura"},
        "amount": "500.00", "currency": "SAR", "date": "2026-11-01", "bank_reference": "TRX1", "description": ""}})
    work()
    assert set(ExportRecord.objects.values_list("status", flat=True)) == {"exported"}, list(
        ExportRecord.objects.values("reference", "status", "last_error"))
    [journal] = testkit.held(sandbox, "EXPENSICO-exp_1-v1")
    assert journal["status"] == "Posted" and journal["lines"][0]["worktags"] == {"Cost_Center_Reference_ID": "CC100"}
    assert len(testkit.held(sandbox, "EXPENSICO-exp_2-v1")) == 1

    cancel(live_org, "exp_1")
    work()
    assert ExportRecord.objects.get(kind="reversal").status == Status.EXPORTED
    assert len(testkit.held(sandbox, "EXPENSICO-exp_1-v1-R")) == 1


def test_lost_answers_are_reconciled_not_duplicated(live_org, books, sandbox):
    from connectors.metadata import connection_metadata
    connection_metadata(connection=books)    # SOAP reads are POSTs too: pre-flight's cache is warm first
    sandbox.app.inject("drop_after_commit", count=10, method="POST")
    approve(live_org, expense("exp_1", dimensions={"cost_center": "CC-100"}))
    assert ExportRecord.objects.get().status == Status.OUTCOME_UNKNOWN
    sandbox.app.clear_faults()
    assert work() == {"exported": 1}
    assert len(testkit.held(sandbox, "EXPENSICO-exp_1-v1")) == 1


def test_missing_cost_centre_goes_to_review_naming_the_worktag(live_org, books, sandbox):
    approve(live_org, expense("exp_1"))
    work()
    item = ExportRecord.objects.get().review_items.get()
    # Caught by pre-flight (the tenant's cost-centre rule), before anything is sent.
    assert item.reason == "preflight_failed"
    assert item.context["field"] == "lines[0].dimensions.Cost_Center_Reference_ID"
    assert not sandbox.app.documents()
