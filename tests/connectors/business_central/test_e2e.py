"""End to end over real HTTPS: mirror → export records → worker → the BC connector → the BC sandbox.
The sandbox company keeps its books in SAR here, the demo organisation's base currency."""

import pytest
from django.utils import timezone

from connectors.business_central.sandbox import testkit
from expensico_sync.core.models import Organization
from exports.models import ExportAttempt, ExportRecord
from exports.services.worker import records_work_due
from exports.transitions import Status
from mappings.models import CategoryMapping, DimensionMapping
from tests.exports.conftest import approve, cancel, expense

from .helpers import arm_after, dim_value, lines_of

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def live_org():
    return Organization.objects.create(slug="bc-e2e", name="BC E2E", base_currency="SAR", mode="live")


@pytest.fixture
def books(live_org, bc_server):
    bc_server.app.company["currency"] = "SAR"
    for row in bc_server.app.sets["companyInformation"].values():
        row["currencyCode"] = "SAR"
    connection = testkit.connect(bc_server, live_org)
    for code, number in (("TRAVEL", "6100"), ("MEALS", "6110")):
        CategoryMapping.objects.create(connection=connection, category_code=code, account=testkit._account(bc_server, number))
    return connection


def work():
    ExportRecord.objects.filter(status__in=[Status.RETRY, Status.OUTCOME_UNKNOWN]).update(next_attempt_at=timezone.now())
    return records_work_due(limit=100)


def test_expenses_and_a_reversal_reach_business_central(live_org, books, bc_server):
    approve(live_org, expense("exp_1"), expense("exp_2", amount="40.00", category="MEALS"))
    work()
    assert set(ExportRecord.objects.values_list("status", flat=True)) == {"exported"}, list(
        ExportRecord.objects.values("reference", "status", "last_error"))
    assert len(testkit.held(bc_server, "EXPENSICO-exp_1-v1")) == 1
    assert len(testkit.held(bc_server, "EXPENSICO-exp_2-v1")) == 1
    cancel(live_org, "exp_1")
    work()
    assert testkit.held(bc_server, "EXPENSICO-exp_1-v1") == []
    assert ExportRecord.objects.get(kind="reversal").status == Status.EXPORTED


def test_lost_responses_are_reconciled_not_duplicated(live_org, books, bc_server):
    bc_server.app.inject("drop_after_commit", count=1, method="POST")
    approve(live_org, expense("exp_1"))
    work()
    assert ExportRecord.objects.get().status == Status.EXPORTED
    assert len(testkit.held(bc_server, "EXPENSICO-exp_1-v1")) == 1


def test_a_half_made_document_is_rebuilt_not_reconciled_as_exported(live_org, books, bc_server):
    DimensionMapping.objects.create(connection=books, dimension_key="cost_center", value="CC-100",
                                    remote_kind="dimension:DEPARTMENT",
                                    remote_id=dim_value(bc_server, "DEPARTMENT", "SALES"))
    # The journal line goes in; its dimensions, and the look-up after, never reach BC.
    arm_after(bc_server, "journalLines", "reset", in_body=True, count=4, path="$batch")
    approve(live_org, expense("exp_1", dimensions={"cost_center": "CC-100"}))
    work()
    work()
    record = ExportRecord.objects.get()
    outcomes = list(record.export_attempts.order_by("number").values_list("outcome", flat=True))
    assert outcomes == [ExportAttempt.Outcome.OUTCOME_UNKNOWN, ExportAttempt.Outcome.EXPORTED], \
        "looked up, not found (half-made), built again: never reconciled as exported"
    assert record.status == Status.EXPORTED, record.last_error
    (line,) = lines_of(bc_server, record.reference)
    assert len(bc_server.app.sets["journalLines"]) == 1, "the half-made pieces were cleared"
    dims = [d for d in bc_server.app.sets["dimensionSetLines"].values() if d["parentId"] == line["id"]]
    assert [(d["code"], d["valueCode"]) for d in dims] == [("DEPARTMENT", "SALES")]
