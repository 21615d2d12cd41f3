"""Admin screens render, the review queue resolves through the service, sync runs start."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from exports.models import ExportRecord, ReviewItem, SyncRun
from exports.services.worker import records_work_due

from .conftest import approve, expense

pytestmark = pytest.mark.django_db


@pytest.fixture
def queue(org, conn, vendor):
    approve(org, expense("exp_1", category="HOTEL"), expense("exp_2"), expense("exp_3"))
    vendor.faults = ["permanent"]
    records_work_due()
    return ReviewItem.objects.order_by("record__source_id")


def test_changelists_detail_pages_and_dashboard_render(admin_client, queue):
    record = ExportRecord.objects.get(source_id="exp_3")
    for url in (reverse("admin:exports_exportrecord_changelist"), reverse("admin:exports_reviewitem_changelist"),
                reverse("admin:exports_syncrun_changelist"), reverse("admin:exports_pilotscope_changelist"),
                reverse("admin:exports_exportrecord_change", args=[record.pk]),
                reverse("admin:exports_reviewitem_change", args=[queue[0].pk]), reverse("admin:index"),
                reverse("admin:exports_exportrecord_changelist") + "?q=EXPENSICO-exp_2",
                reverse("admin:exports_exportrecord_changelist") + "?status__exact=needs_review"):
        response = admin_client.get(url)
        assert response.status_code == 200, url
    index = admin_client.get(reverse("admin:index")).content.decode()
    assert "Exported today" in index and "Needs review" in index


def test_mapping_gap_links_straight_to_the_mapping_to_add(admin_client, queue, conn):
    page = admin_client.get(reverse("admin:exports_reviewitem_changelist")).content.decode()
    assert reverse("admin:mappings_categorymapping_add") + f"?connection={conn.pk}&amp;category_code=HOTEL" in page


def test_review_form_books_manually_and_skips_with_reason(admin_client, queue):
    gap, rejected = queue
    url = reverse("admin:exports_reviewitem_change", args=[rejected.pk])
    response = admin_client.post(url, {"resolve_as": "booked_manually", "owner": "", "resolution_note": "",
                                       "manual_external_reference": ""})
    assert response.status_code == 200 and "Give the reference" in response.content.decode()
    admin_client.post(url, {"resolve_as": "booked_manually", "owner": "", "resolution_note": "",
                            "manual_external_reference": "WQ-9"})
    rejected.refresh_from_db()
    assert rejected.resolution == "booked_manually" and rejected.record.status == "exported"
    assert rejected.record.external_id == "WQ-9"
    admin_client.post(reverse("admin:exports_reviewitem_change", args=[gap.pk]),
                      {"resolve_as": "skipped", "owner": "", "resolution_note": "private expense",
                       "manual_external_reference": ""})
    gap.refresh_from_db()
    assert gap.record.status == "cancelled" and gap.resolution_note == "private expense"


def test_bulk_retry_after_a_fix(admin_client, queue, vendor):
    changelist = reverse("admin:exports_reviewitem_changelist")
    selection = {"action": "retry_selected", "_selected_action": [i.pk for i in queue]}
    asked = admin_client.post(changelist, selection)
    page = asked.content.decode()
    # It asks first, with how many items and what they add up to (115.00 SAR each in the fixture).
    assert asked.status_code == 200 and 'name="confirmed" value="1"' in page
    assert ">2<" in page and "230.00 SAR" in page
    assert ReviewItem.objects.filter(resolved_at__isnull=True).count() == 2
    response = admin_client.post(changelist, {**selection, "confirmed": "1"})
    assert response.status_code == 302
    assert not ReviewItem.objects.filter(resolved_at__isnull=True).exists()
    records_work_due()
    statuses = dict(ExportRecord.objects.values_list("source_id", "status"))
    assert statuses == {"exp_1": "needs_review", "exp_2": "exported", "exp_3": "exported"}  # HOTEL still unmapped


def test_overdue_items_show_against_their_sla(admin_client, queue):
    ReviewItem.objects.filter(pk=queue[0].pk).update(sla_due_at=timezone.now() - timedelta(hours=1))
    page = admin_client.get(reverse("admin:exports_reviewitem_changelist")).content.decode()
    assert "overdue" in page


def test_starting_a_sync_run_from_the_admin(admin_client, org, conn, django_capture_on_commit_callbacks):
    approve(org, expense("exp_in", date="2026-11-10"), expense("exp_out", date="2026-10-20"))
    form = {"connection": conn.pk, "date_from": "2026-11-01", "date_to": "2026-11-30"}
    preview = admin_client.post(reverse("admin:exports_syncrun_add"), form)   # first: what it will do
    assert preview.status_code == 200 and not SyncRun.objects.exists()
    page = preview.content.decode()
    assert 'data-kind="Approved expenses">1<' in page and 'data-test="preview-total">1<' in page
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("admin:exports_syncrun_add"), {**form, "_confirmed": "1"})
    assert response.status_code == 302
    run = SyncRun.objects.get()
    assert list(run.records.values_list("source_id", flat=True)) == ["exp_in"]  # only the range's documents
    page = admin_client.get(reverse("admin:exports_syncrun_change", args=[run.pk])).content.decode()
    assert 'data-counter="found">1<' in page and 'name="_save"' not in page   # counters, no Save button


def test_a_sync_run_is_refused_for_a_connection_not_activated(admin_client, org, conn):
    conn.active = False
    conn.save()
    page = admin_client.post(reverse("admin:exports_syncrun_add"), {
        "connection": conn.pk, "date_from": "2026-11-01", "date_to": "2026-11-30"}).content.decode()
    assert "Select a valid choice" in page and not SyncRun.objects.exists()


def test_retry_failed_exports_asks_with_the_count_then_sends_them_again(admin_client, queue, vendor):
    url = reverse("admin:exports_exportrecord_retry_failed_exports")
    assert url in admin_client.get(reverse("admin:exports_exportrecord_changelist")).content.decode()
    page = admin_client.get(url)
    assert page.status_code == 200 and "2 failed exports (Acme: 2)" in page.content.decode()
    assert ReviewItem.objects.filter(resolved_at__isnull=True).count() == 2   # the GET only asks
    done = admin_client.post(url)
    assert done.status_code == 302
    records_work_due()
    statuses = dict(ExportRecord.objects.values_list("source_id", "status"))
    assert statuses == {"exp_1": "needs_review", "exp_2": "exported", "exp_3": "exported"}  # HOTEL still unmapped


def test_a_record_shows_its_payload_preview(admin_client, queue):
    record = ExportRecord.objects.get(source_id="exp_3")
    assert record.payload_preview == {"reference": "EXPENSICO-exp_3-v1", "amount": "115.00"}
    page = admin_client.get(reverse("admin:exports_exportrecord_change", args=[record.pk])).content.decode()
    assert "EXPENSICO-exp_3-v1" in page and "115.00" in page


def test_a_record_reads_like_a_document(admin_client, queue):
    from exports.services.actions import record_cancel

    record = ExportRecord.objects.get(source_id="exp_3")      # rejected by the vendor: in review
    url = reverse("admin:exports_exportrecord_change", args=[record.pk])
    page = admin_client.get(url).content.decode()
    assert "115.00 SAR" in page and "Taxi to client" in page
    assert reverse("admin:source_expense_change", args=[record.expense_id]) in page
    assert "r.pdf" in page and "(not fetched yet)" in page                 # the receipt, by its own view
    assert "attempt 1: sent to review" in page and "held for review" in page   # the timeline
    assert 'name="_save"' not in page and 'name="_continue"' not in page   # read-only: no Save buttons
    # Only the actions its status allows.
    assert "/retry_now/" in page and "/cancel_record/" in page and "/re_export/" not in page
    record_cancel(record=record)
    page = admin_client.get(url).content.decode()
    assert "/retry_now/" not in page and "/cancel_record/" not in page and "/re_export/" in page
    listing = admin_client.get(reverse("admin:exports_exportrecord_changelist")).content.decode()
    assert "115.00 SAR" in listing and "Fake books" in listing
