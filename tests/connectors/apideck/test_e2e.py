"""End to end over real HTTP: mirror → export records → worker → Apideck connector → Apideck sandbox."""

import pytest
from django.utils import timezone

from connectors.apideck.sandbox import testkit
from connectors.apideck.schema import encode_account_id
from expensico_sync.core.models import Organization
from exports.models import ExportRecord
from exports.services.worker import records_work_due
from exports.transitions import Status
from mappings.models import CategoryMapping, DimensionMapping
from tests.exports.conftest import approve, cancel, expense

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def live_org(db):
    return Organization.objects.create(slug="apd-e2e", name="APD e2e", base_currency="SAR", mode="live")


@pytest.fixture
def sandbox():
    server = testkit.start_sandbox()
    yield server
    server.stop()


@pytest.fixture
def books(live_org, sandbox):
    connection = testkit.connect(sandbox, live_org)
    CategoryMapping.objects.create(connection=connection, category_code="TRAVEL",
                                   account=encode_account_id("6100", "Standard"))
    DimensionMapping.objects.create(connection=connection, dimension_key="cost_center", value="CC-100",
                                    remote_kind="worktag:Cost_Center_Reference_ID", remote_id="CC100")
    return connection


def work():
    ExportRecord.objects.filter(status__in=[Status.RETRY, Status.OUTCOME_UNKNOWN]).update(
        next_attempt_at=timezone.now())
    return records_work_due(limit=100)


def test_expense_and_cancellation_reach_apideck(live_org, books, sandbox):
    approve(live_org, expense("exp_1", dimensions={"cost_center": "CC-100"}))
    work()
    assert ExportRecord.objects.get().status == Status.EXPORTED, list(ExportRecord.objects.values("last_error"))
    [je] = testkit.held(sandbox, "EXPENSICO-exp_1-v1")
    assert je["status"] == "posted"
    cancel(live_org, "exp_1")
    work()
    assert ExportRecord.objects.get(kind="reversal").status == Status.EXPORTED
    assert testkit.held(sandbox, "EXPENSICO-exp_1-v1") == []


def test_lost_answer_is_found_by_number_not_sent_twice(live_org, books, sandbox):
    sandbox.app.inject("drop_after_commit", count=1, method="POST")
    approve(live_org, expense("exp_1", dimensions={"cost_center": "CC-100"}))
    work()
    assert ExportRecord.objects.get().status == Status.EXPORTED
    assert len(testkit.held(sandbox, "EXPENSICO-exp_1-v1")) == 1


def test_a_journal_workday_would_keep_as_draft_goes_to_review(live_org, books, sandbox):
    approve(live_org, expense("exp_1"))      # no cost centre on the expense, none by default
    work()
    item = ExportRecord.objects.get().review_items.get()
    # Caught by pre-flight (Workday's cost-centre rule), before anything is sent.
    assert item.reason == "preflight_failed"
    assert item.context["field"] == "lines[0].dimensions.Cost_Center_Reference_ID"
    assert not sandbox.app.journal_entries
