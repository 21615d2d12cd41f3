"""Each export record keeps a stored status-change log (who, when, from → to, why), written by the
transition itself: on PostgreSQL in the same statement as the UPDATE."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from exports.errors import StaleRecord
from exports.models import ExportRecord, ReviewItem, StatusChange
from exports.services.review import review_item_resolve
from exports.services.status_update import record_transition
from exports.services.worker import records_work_due
from exports.transitions import IllegalTransition, Status
from tests.conftest import admin_confirm

from .conftest import approve, expense

pytestmark = pytest.mark.django_db


def test_worker_and_person_changes_are_logged_with_who_and_why(org, conn, vendor):
    approve(org, expense("exp_1", category="HOTEL"), expense("exp_2"))
    records_work_due()
    booked = ExportRecord.objects.get(source_id="exp_2")
    assert [(c.from_status, c.to_status, c.actor) for c in booked.status_changes.all()] == [
        ("in_progress", "exported", "")]
    held = ExportRecord.objects.get(source_id="exp_1")
    first = held.status_changes.get()
    assert (first.from_status, first.to_status) == ("in_progress", "needs_review") and "HOTEL" in first.why
    person = get_user_model().objects.create_user("noura", "n@example.com", "pw-123456789")
    review_item_resolve(item=ReviewItem.objects.get(record=held), resolution=ReviewItem.Resolution.SKIPPED,
                        by=person, note="personal trip")
    last = held.status_changes.last()
    assert (last.from_status, last.to_status, last.actor) == ("needs_review", "cancelled", "noura")
    assert "skipped" in last.why and "personal trip" in last.why


def test_a_transition_is_one_statement_on_postgres_and_logs_exactly_once(org, conn):
    approve(org, expense("exp_1"))
    record = ExportRecord.objects.get()
    with CaptureQueriesContext(connection) as ctx:
        record_transition(record=record, to=Status.CANCELLED, last_error="not needed", by="api-key ops")
    assert len(ctx.captured_queries) == (1 if connection.vendor == "postgresql" else 2)
    record.refresh_from_db()
    assert record.status == Status.CANCELLED and record.last_error == "not needed"
    change = StatusChange.objects.get(record=record)
    assert (change.from_status, change.to_status, change.actor, change.why) == (
        "pending", "cancelled", "api-key ops", "not needed")


def test_a_lost_race_or_illegal_move_logs_nothing(org, conn):
    approve(org, expense("exp_1"))
    record = ExportRecord.objects.get()
    stale = ExportRecord.objects.get(pk=record.pk)
    record_transition(record=record, to=Status.CANCELLED)
    with pytest.raises((StaleRecord, IllegalTransition)):
        record_transition(record=stale, to=Status.NEEDS_REVIEW)
    with pytest.raises(IllegalTransition):
        record_transition(record=record, to=Status.EXPORTED)
    assert StatusChange.objects.filter(record=record).count() == 1


def test_the_record_page_shows_the_history(admin_client, org, conn, vendor, admin_user):
    approve(org, expense("exp_1", category="HOTEL"))
    records_work_due()
    record = ExportRecord.objects.get()
    admin_confirm(admin_client, reverse("admin:exports_exportrecord_cancel_record", args=[record.pk]))
    page = admin_client.get(reverse("admin:exports_exportrecord_change", args=[record.pk])).content.decode()
    assert 'data-test="status-history"' in page
    assert "In progress <span class=\"flow-arrow\">→</span> <strong>Needs review</strong>" in page
    assert "Needs review <span class=\"flow-arrow\">→</span> <strong>Cancelled</strong>" in page
    assert admin_user.username in page


def test_the_record_page_reads_its_history_once_however_often_unfold_renders_it(admin_client, org, conn, vendor):
    """Unfold renders each read-only field five times: the status changes, the timeline's attempts and
    review items, the receipts and the reversal were read five times each (41 queries at 1M rows)."""
    approve(org, expense("exp_1", category="HOTEL"))
    records_work_due()
    record = ExportRecord.objects.get()
    record_transition(record=record, to=Status.CANCELLED, why="duplicate")
    with CaptureQueriesContext(connection) as ctx:
        page = admin_client.get(reverse("admin:exports_exportrecord_change", args=[record.pk]))
    assert page.status_code == 200 and 'data-test="status-history"' in page.content.decode()
    sqls = [q["sql"] for q in ctx.captured_queries]
    for table in ("exports_statuschange", "source_receipt"):
        assert len([s for s in sqls if f'FROM "{table}"' in s]) == 1, table
    assert len([s for s in sqls if '"reverses_id" =' in s]) == 1
    # The attempts: once for the timeline, once for the attempts table (an inline) — was six.
    assert len([s for s in sqls if 'FROM "exports_exportattempt"' in s]) == 2
