"""End to end over real HTTP: mirror → export records → worker → the Xledger connector → the Xledger sandbox.
The sandbox entity keeps its books in SAR here, the demo organisation's base currency."""

import pytest
from django.utils import timezone

from connectors.xledger.sandbox import testkit
from expensico_sync.core.models import Organization
from exports.models import ExportRecord
from exports.services.worker import records_work_due
from exports.transitions import Status
from mappings.models import CategoryMapping
from tests.exports.conftest import approve, cancel, expense

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def live_org():
    return Organization.objects.create(slug="xl-e2e", name="XL E2E", base_currency="SAR", mode="live")


@pytest.fixture
def books(live_org, xl_server):
    xl_server.app.tables["entities"][0]["currency"] = {"code": "SAR"}
    xl_server.app._add("currencies", {"code": "SAR", "description": "Saudi riyal"})
    connection = testkit.connect(xl_server, live_org)
    for code, number in (("TRAVEL", "7140"), ("MEALS", "7350")):
        CategoryMapping.objects.create(connection=connection, category_code=code, account=testkit._account(xl_server, number))
    return connection


def work():
    ExportRecord.objects.filter(status__in=[Status.RETRY, Status.OUTCOME_UNKNOWN]).update(next_attempt_at=timezone.now())
    return records_work_due(limit=100)


def test_expenses_and_a_reversal_reach_xledger(live_org, books, xl_server):
    approve(live_org, expense("exp_1"), expense("exp_2", amount="40.00", category="MEALS"))
    work()
    assert set(ExportRecord.objects.values_list("status", flat=True)) == {"exported"}, list(
        ExportRecord.objects.values("reference", "status", "last_error"))
    assert len(testkit.held(xl_server, "EXPENSICO-exp_1-v1")) == 1
    assert len(testkit.held(xl_server, "EXPENSICO-exp_2-v1")) == 1
    cancel(live_org, "exp_1")
    work()
    # Xledger keeps the original voucher; a reversing voucher names it in yourReference.
    assert any(r.get("yourReference") == "EXPENSICO-exp_1-v1" for r in xl_server.app.tables["glImportItems"])
    assert ExportRecord.objects.get(kind="reversal").status == Status.EXPORTED


def test_lost_responses_are_reconciled_not_duplicated(live_org, books, xl_server):
    xl_server.app.inject("drop_after_commit", count=1, method="POST")
    approve(live_org, expense("exp_1"))
    work()
    assert ExportRecord.objects.get().status == Status.EXPORTED
    assert len(testkit.held(xl_server, "EXPENSICO-exp_1-v1")) == 1
