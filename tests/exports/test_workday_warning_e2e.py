"""End to end over real HTTP: Workday SOAP with `submit` off saves a draft journal, and the engine
turns the connector's warning into a review item on the record, which stays exported."""

import pytest

from connectors.workday.sandbox import testkit
from expensico_sync.core.models import Organization
from exports.models import ExportRecord, ReviewItem
from exports.services.review import review_item_resolve
from exports.services.worker import records_work_due
from exports.transitions import Status
from mappings.models import CategoryMapping, DimensionMapping

from .conftest import approve, expense

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sandbox():
    server = testkit.start_sandbox()
    yield server
    server.stop()


@pytest.fixture
def drafts_only(sandbox):
    org = Organization.objects.create(slug="wd-drafts", name="WD drafts", base_currency="SAR", mode="live")
    connection = testkit.connect(sandbox, org)
    connection.settings = {**connection.settings, "submit": False}
    connection.save(update_fields=["settings"])
    CategoryMapping.objects.create(connection=connection, category_code="TRAVEL", account="Standard/6100")
    DimensionMapping.objects.create(connection=connection, dimension_key="cost_center", value="CC-100",
                                    remote_kind="worktag:Cost_Center_Reference_ID", remote_id="CC100",
                                    remote_name="Finance")
    return org


def test_a_draft_journal_is_exported_with_a_warning_to_acknowledge(drafts_only, sandbox):
    # No receipt: a receipt not yet downloaded would add its own warning (Workday attaches receipts).
    approve(drafts_only, expense("exp_1", dimensions={"cost_center": "CC-100"}, receipts=[]))
    records_work_due(limit=10)  # the doorbell already ran it inline (transactional test, Q sync)
    record = ExportRecord.objects.get()
    [journal] = testkit.held(sandbox, "EXPENSICO-exp_1-v1")
    assert journal["status"] == "Draft" and record.status == Status.EXPORTED
    assert record.warnings == ["saved as a draft journal in Workday (submit is off)"]
    item = ReviewItem.objects.get(record=record)
    assert item.reason == ReviewItem.Reason.VENDOR_WARNING and item.severity == ReviewItem.Severity.LOW
    assert "draft" in item.detail
    review_item_resolve(item=item, resolution=ReviewItem.Resolution.ACKNOWLEDGED, note="submitting by hand")
    record.refresh_from_db()
    assert record.status == Status.EXPORTED and not ReviewItem.objects.filter(resolved_at__isnull=True).exists()
