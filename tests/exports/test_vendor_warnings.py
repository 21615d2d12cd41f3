"""Vendor warnings: kept on the attempt and the record, surfaced as a LOW review item on a record
that stays exported, resolved only by acknowledging; reversal notes are kept and open nothing."""

import pytest
from django.test import RequestFactory
from django.urls import reverse

from expensico_sync.core.roles import Role
from expensico_sync.core.services import api_key_create
from exports.dashboard import exports_panel
from exports.models import ExportRecord, ReviewItem
from exports.services import actions, review
from exports.services.worker import records_work_due
from exports.transitions import Status
from tests.conftest import admin_confirm

from .conftest import approve, cancel, expense

pytestmark = pytest.mark.django_db
DRAFT = "saved as a draft journal (submit is off)"
R = ReviewItem.Resolution


@pytest.fixture
def warned(org, conn, vendor):
    vendor.warnings = (DRAFT, "receipt rcp_1 not fetched yet; pushed without it")
    approve(org, expense("exp_1"))
    assert records_work_due() == {"exported": 1}
    vendor.warnings = ()
    return ReviewItem.objects.get()


@pytest.fixture
def parked(org, conn, vendor, warned):
    vendor.faults = ["permanent"]
    approve(org, expense("exp_2"), rid="rpt_2")
    records_work_due()
    return ReviewItem.objects.get(record__source_id="exp_2")


def test_a_warning_opens_a_low_item_and_the_record_stays_exported(warned):
    record = warned.record
    assert record.status == Status.EXPORTED and record.external_id.startswith("doc-")
    assert record.warnings == [DRAFT, "receipt rcp_1 not fetched yet; pushed without it"]
    assert record.export_attempts.get().warnings == record.warnings
    assert warned.reason == ReviewItem.Reason.VENDOR_WARNING and warned.severity == ReviewItem.Severity.LOW
    assert warned.get_reason_display() == "Exported with a warning"
    assert warned.detail == f"{DRAFT}; receipt rcp_1 not fetched yet; pushed without it"
    assert warned.context == {"warnings": record.warnings}


def test_a_clean_push_keeps_no_warnings_and_opens_nothing(org, conn, vendor):
    approve(org, expense("exp_1"))
    records_work_due()
    assert ExportRecord.objects.get().warnings == [] and not ReviewItem.objects.exists()


def test_acknowledging_closes_the_item_and_leaves_the_record_booked(warned, admin_user):
    review.review_item_resolve(item=warned, resolution=R.ACKNOWLEDGED, by=admin_user, note="will submit in Workday")
    warned.refresh_from_db()
    assert warned.resolution == R.ACKNOWLEDGED and warned.resolved_at and warned.resolved_by == admin_user
    assert ExportRecord.objects.get(pk=warned.record_id).status == Status.EXPORTED


@pytest.mark.parametrize("resolution, extra", [(R.RETRIED, {}), (R.FIXED_MAPPING, {}),
                                                (R.BOOKED_MANUALLY, {"external_reference": "X-1"}),
                                                (R.SKIPPED, {"note": "private"})])
def test_parked_record_resolutions_are_refused_for_a_warning(warned, resolution, extra):
    with pytest.raises(review.ReviewError, match="acknowledge it") as refused:
        review.review_item_resolve(item=warned, resolution=resolution, **extra)
    assert refused.value.code == "not_parked"
    warned.refresh_from_db()
    assert warned.is_open and warned.record.status == Status.EXPORTED


def test_acknowledging_a_parked_record_is_refused(parked):
    with pytest.raises(review.ReviewError, match="only a vendor warning") as refused:
        review.review_item_resolve(item=parked, resolution=R.ACKNOWLEDGED)
    assert refused.value.code == "not_a_warning"
    assert parked.record.status == Status.NEEDS_REVIEW


def test_bulk_retry_and_retry_failed_exports_skip_warnings(org, warned, parked):
    assert review.review_items_retry(items=[warned, parked]) == 1
    warned.refresh_from_db()
    assert warned.is_open and ReviewItem.objects.get(pk=parked.pk).resolution == R.RETRIED
    assert actions.retry_failed_exports(organization_id=org.pk) >= 0
    warned.refresh_from_db()
    assert warned.is_open
    assert review.review_items_acknowledge(items=list(ReviewItem.objects.all())) == 1


def test_reversal_notes_are_recorded_but_open_no_item(org, conn, vendor):
    approve(org, expense("exp_1"))
    records_work_due()
    vendor.notes = ("already reversed",)
    cancel(org, "exp_1")
    records_work_due()
    reversal = ExportRecord.objects.get(kind="reversal")
    assert reversal.status == Status.EXPORTED and reversal.warnings == []
    assert reversal.export_attempts.get().notes == ["already reversed"]
    assert not ReviewItem.objects.exists()


def test_reversal_warnings_open_an_item_on_the_reversal(org, conn, vendor):
    approve(org, expense("exp_1"))
    records_work_due()
    vendor.warnings = ("reversal saved as a draft",)
    cancel(org, "exp_1")
    records_work_due()
    item = ReviewItem.objects.get()
    assert item.record.kind == "reversal" and item.record.status == Status.EXPORTED
    assert item.reason == ReviewItem.Reason.VENDOR_WARNING


def test_sync_runs_count_a_warned_record_as_exported_not_failed(org, conn, vendor, warned):
    from datetime import date, timedelta

    from django.utils import timezone

    from exports.models import SyncRun
    from exports.services.sync import sync_run_refresh

    run = SyncRun.objects.create(organization=org, connection=conn, date_from=date(2026, 11, 1),
                                 date_to=date(2026, 11, 30), status=SyncRun.Status.EXPORTING,
                                 started_at=timezone.now() - timedelta(minutes=1))
    ExportRecord.objects.update(sync_run=run)
    run = sync_run_refresh(sync_run=run)
    assert (run.exported, run.failed, run.status) == (1, 0, SyncRun.Status.FINISHED)


def test_dashboard_does_not_count_warnings_as_blockers(org, warned, parked):
    panel = exports_panel(RequestFactory().get("/admin/"), [org.pk])
    kpi = next(k for k in panel["kpis"] if k["title"] == "Needs review")
    assert kpi["value"] == 1 and "1 warning to acknowledge" in kpi["footer"]


# --- the API -----------------------------------------------------------------------------------

@pytest.fixture
def api(client, org):
    _, key = api_key_create(organization=org, role=Role.FINANCE_ADMIN, name="erp")
    client.defaults["HTTP_AUTHORIZATION"] = f"Api-Key {key}"
    return client


def test_api_refuses_retry_of_a_warning_and_acknowledges_it(api, warned, parked):
    url = f"/api/v1/review-items/{warned.pk}"
    for response in (api.post(f"{url}/retry"),
                     api.post(f"{url}/resolve", {"resolution": "skipped", "note": "x"}, content_type="application/json")):
        assert response.status_code == 409, response.content
        assert response.json()["errors"][0]["code"] == "not_parked"
    refused = api.post(f"/api/v1/review-items/{parked.pk}/resolve", {"resolution": "acknowledged"},
                       content_type="application/json")
    assert refused.status_code == 409 and refused.json()["errors"][0]["code"] == "not_a_warning"
    listed = api.get("/api/v1/review-items", {"reason": "vendor_warning", "open": "true"}).json()["results"]
    assert [i["id"] for i in listed] == [warned.pk] and listed[0]["record_status"] == "exported"
    done = api.post(f"{url}/resolve", {"resolution": "acknowledged"}, content_type="application/json")
    assert done.status_code == 200 and done.json()["resolution"] == "acknowledged"
    record = api.get(f"/api/v1/accounting-exports/{warned.record_id}").json()
    assert record["status"] == "exported" and record["warnings"] == warned.record.warnings
    assert record["export_attempts"][0]["warnings"] == warned.record.warnings


# --- the admin ---------------------------------------------------------------------------------

def test_admin_filters_records_with_warnings_and_shows_the_reason(admin_client, warned, parked):
    records = reverse("admin:exports_exportrecord_changelist")
    page = admin_client.get(records + "?vendor_warnings=yes").content.decode()
    assert "EXPENSICO-exp_1-v1" in page and "EXPENSICO-exp_2-v1" not in page and "2 warnings" in page
    page = admin_client.get(records + "?vendor_warnings=no").content.decode()
    assert "EXPENSICO-exp_2-v1" in page and "EXPENSICO-exp_1-v1" not in page
    queue = admin_client.get(reverse("admin:exports_reviewitem_changelist")).content.decode()
    assert "Exported with a warning" in queue
    assert admin_client.get(reverse("admin:exports_reviewitem_change", args=[warned.pk])).status_code == 200
    assert admin_client.get(reverse("admin:exports_exportrecord_change", args=[warned.record_id])).status_code == 200


def test_admin_actions_on_a_warning_refuse_cleanly(admin_client, warned, parked):
    changelist = reverse("admin:exports_reviewitem_changelist")
    response = admin_client.post(changelist, {"action": "retry_selected", "_selected_action": [warned.pk, parked.pk],
                                              "confirmed": "1"})
    assert response.status_code == 302
    warned.refresh_from_db()
    assert warned.is_open and ReviewItem.objects.get(pk=parked.pk).resolution == R.RETRIED
    # A warning offers no Retry: the button is not there and its URL refuses.
    assert admin_confirm(admin_client, reverse("admin:exports_reviewitem_retry_one", args=[warned.pk])).status_code == 403
    form = admin_client.post(reverse("admin:exports_reviewitem_change", args=[warned.pk]), {
        "resolve_as": "retried", "owner": "", "resolution_note": "", "manual_external_reference": ""})
    assert form.status_code == 200 and "is acknowledged" in form.content.decode()
    warned.refresh_from_db()
    assert warned.is_open
    response = admin_client.post(changelist, {"action": "acknowledge_selected", "_selected_action": [warned.pk],
                                              "confirmed": "1"})
    assert response.status_code == 302
    warned.refresh_from_db()
    assert warned.resolution == R.ACKNOWLEDGED and warned.record.status == Status.EXPORTED


def test_admin_acknowledge_detail_action(admin_client, warned):
    response = admin_confirm(admin_client, reverse("admin:exports_reviewitem_acknowledge_one", args=[warned.pk]))
    assert response.status_code == 302
    warned.refresh_from_db()
    assert warned.resolution == R.ACKNOWLEDGED
