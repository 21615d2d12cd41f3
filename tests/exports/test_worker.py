"""Outcomes by error class, retries with backoff, waits that never fail, reconciliation,
and recovery by the sweeper after a lost task or a dead worker."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from exports.models import ExportAttempt, ExportRecord, ReviewItem
from exports.services import backoff
from exports.services.claiming import record_claim, records_claim_due
from exports.services.sweeper import leases_expire, records_sweep
from exports.services.worker import records_work_due
from exports.transitions import Status

from .conftest import approve, cancel, expense

pytestmark = pytest.mark.django_db


def work():
    return records_work_due(limit=100)


def make_due(record=None):
    qs = ExportRecord.objects.all() if record is None else ExportRecord.objects.filter(pk=record.pk)
    qs.update(next_attempt_at=timezone.now() - timedelta(seconds=1))


def test_transient_error_retries_with_backoff_and_the_same_idempotency_key(org, conn, vendor):
    approve(org, expense("exp_1"))
    key = ExportRecord.objects.get().idempotency_key
    vendor.faults = ["transient"]
    assert work() == {"retry": 1}
    record = ExportRecord.objects.get()
    assert record.attempts == 1 and record.next_attempt_at > timezone.now()
    assert work() == {}  # not due yet
    make_due()
    assert work() == {"exported": 1}
    record.refresh_from_db()
    assert record.idempotency_key == key and record.attempts == 2
    assert list(record.export_attempts.values_list("outcome", "error_class")) == [
        ("retry", "Transient"), ("exported", "")]
    assert record.export_attempts.first().request_id == "req-503"


def test_rate_limit_waits_for_retry_after_and_never_spends_an_attempt(org, conn, vendor, settings):
    settings.EXPORTS_MAX_ATTEMPTS = 2
    approve(org, expense("exp_1"))
    for _ in range(5):
        vendor.faults = ["rate_limited"]
        make_due()
        assert work() == {"retry": 1}
    record = ExportRecord.objects.get()
    assert record.attempts == 0 and record.status == Status.RETRY
    wait = (record.next_attempt_at - timezone.now()).total_seconds()
    assert 6 <= wait <= 8  # Retry-After 7 s plus a little jitter
    make_due()
    assert work() == {"exported": 1}


def test_open_breaker_makes_records_wait_without_calling(org, conn, vendor):
    approve(org, expense("exp_1"))
    conn.paused_until = timezone.now() + timedelta(minutes=2)
    conn.save(update_fields=["paused_until"])
    assert work() == {"retry": 1}
    record = ExportRecord.objects.get()
    assert vendor.pushes == 0 and record.attempts == 0 and record.next_attempt_at == conn.paused_until


def test_retries_exhausted_goes_to_review(org, conn, vendor, settings):
    settings.EXPORTS_MAX_ATTEMPTS = 3
    approve(org, expense("exp_1"))
    vendor.faults = ["transient"] * 3
    for expected in ("retry", "retry", "needs_review"):
        make_due()
        assert work() == {expected: 1}
    item = ReviewItem.objects.get()
    assert item.reason == ReviewItem.Reason.RETRIES_EXHAUSTED and item.record.attempts == 3


@pytest.mark.parametrize(("fault", "reason", "severity"), [
    ("permanent", "validation", "medium"), ("duplicate", "duplicate_conflict", "high"), ("auth", "auth", "high")])
def test_permanent_errors_go_to_review_with_the_right_reason(org, conn, vendor, fault, reason, severity):
    approve(org, expense("exp_1"))
    vendor.faults = [fault]
    assert work() == {"needs_review": 1}
    item = ReviewItem.objects.get()
    assert (item.reason, item.severity) == (reason, severity)
    assert item.sla_due_at > timezone.now()


def test_outcome_unknown_is_reconciled_by_reference_before_any_resend(org, conn, vendor):
    approve(org, expense("exp_1"))
    vendor.faults = ["unknown_committed"]
    assert work() == {"outcome_unknown": 1}
    record = ExportRecord.objects.get()
    assert record.needs_reconcile
    make_due()
    assert work() == {"exported": 1}
    record.refresh_from_db()
    assert vendor.pushes == 1 and vendor.finds == 1  # found, never sent twice
    assert record.external_id == vendor.documents[record.reference]["id"]
    assert record.export_attempts.last().outcome == ExportAttempt.Outcome.RECONCILED


def test_outcome_unknown_that_never_arrived_is_sent_again_with_the_same_key(org, conn, vendor):
    approve(org, expense("exp_1"))
    vendor.faults = ["unknown"]
    work()
    make_due()
    assert work() == {"exported": 1}
    assert vendor.pushes == 2 and vendor.finds == 1
    assert len(vendor.documents) == 1


def test_an_unexpected_exception_while_calling_is_treated_as_outcome_unknown(org, conn, vendor):
    approve(org, expense("exp_1"))
    vendor.faults = ["boom"]
    assert work() == {"outcome_unknown": 1}


def test_sweeper_recovers_a_dropped_task(org, conn, vendor, django_capture_on_commit_callbacks, monkeypatch):
    # The doorbell message is lost: the record sits pending with nobody coming.
    monkeypatch.setattr("exports.services.doorbell.records_enqueue", lambda *, record_ids: None)
    with django_capture_on_commit_callbacks(execute=True):
        approve(org, expense("exp_1"))
    assert ExportRecord.objects.get().status == Status.PENDING
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        result = records_sweep()
    assert result["enqueued"] == 1
    assert ExportRecord.objects.get().status == Status.EXPORTED


def test_sweeper_recovers_a_worker_killed_mid_call(org, conn, vendor):
    approve(org, expense("exp_1"))
    record = records_claim_due(limit=10)[0]
    # The worker sent the document, then died before recording the outcome.
    from exports.services.resolution import record_resolve

    from .fake import FakeConnector

    FakeConnector(conn).push(record_resolve(record=record).entry, str(record.idempotency_key))
    assert leases_expire() == 0  # lease still valid
    with time_machine.travel(timezone.now() + timedelta(minutes=6), tick=False):
        assert leases_expire() == 1
        record.refresh_from_db()
        assert record.status == Status.OUTCOME_UNKNOWN and record.needs_reconcile
        assert work() == {"exported": 1}
    assert vendor.pushes == 1


def test_a_record_is_claimed_once(org, conn):
    approve(org, expense("exp_1"))
    record = ExportRecord.objects.get()
    assert record_claim(record_id=record.pk) is not None
    assert record_claim(record_id=record.pk) is None
    assert records_claim_due(limit=10) == []


def test_backoff_grows_with_jitter_and_honours_retry_after():
    steps = [backoff.next_delay(n) for n in range(1, 8)]
    for n, delay in enumerate(steps, start=1):
        ceiling = min(3600, 30 * 2 ** (n - 1))
        assert ceiling / 2 <= delay <= ceiling
    assert 120 <= backoff.next_delay(1, retry_after=120) <= 125


def test_a_paused_connection_parks_records_until_it_resumes(org, conn, vendor, django_capture_on_commit_callbacks):
    conn.status = "paused"
    conn.save()
    approve(org, expense("exp_1"))
    assert work() == {"pending": 1}
    assert ExportRecord.objects.get().wait_reason == "connection paused" and vendor.pushes == 0
    conn.status = "connected"
    with django_capture_on_commit_callbacks(execute=True):
        conn.save()
    assert ExportRecord.objects.get().status == Status.EXPORTED


def test_the_sweeper_schedule_exists_once(db):
    from django.apps import apps
    from django_q.models import Schedule

    from exports.receivers import ensure_sweeper

    ensure_sweeper(apps.get_app_config("exports"))
    ensure_sweeper(apps.get_app_config("exports"))
    schedule = Schedule.objects.get(name="exports.sweep")
    assert schedule.func == "exports.tasks.sweep" and schedule.minutes == 1 and schedule.repeats == -1


def test_a_bug_before_sending_parks_the_record_for_review(org, conn, vendor, monkeypatch):
    approve(org, expense("exp_1"))

    def broken(**kwargs):
        raise KeyError("mapping code bug")

    monkeypatch.setattr("exports.services.preview.record_resolve", broken)
    assert work() == {"needs_review": 1}
    item = ReviewItem.objects.get()
    assert item.reason == "remote_error" and "KeyError" in item.detail and vendor.pushes == 0


def _parked_maybe_sent(org, vendor, fault):
    approve(org, expense("exp_1"))
    vendor.faults = [fault]
    assert work() == {"outcome_unknown": 1}
    vendor.find_faults = ["permanent"]            # the look-up that would settle it is refused
    make_due()
    assert work() == {"needs_review": 1}
    record = ExportRecord.objects.get()
    assert record.needs_reconcile
    return record


def test_a_cancel_reverses_a_parked_record_the_vendor_holds(org, conn, vendor):
    record = _parked_maybe_sent(org, vendor, "unknown_committed")
    cancel(org, "exp_1")
    reversal = ExportRecord.objects.get(kind="reversal")
    make_due()
    work()
    record.refresh_from_db()
    reversal.refresh_from_db()
    assert (record.status, reversal.status) == (Status.EXPORTED, Status.EXPORTED)
    assert vendor.reversals == [record.external_id] and vendor.pushes == 1
    assert record.export_attempts.last().outcome == ExportAttempt.Outcome.RECONCILED
    assert not ReviewItem.objects.filter(record=record, resolved_at__isnull=True).exists()


def test_a_cancel_drops_a_parked_record_the_vendor_never_got(org, conn, vendor):
    record = _parked_maybe_sent(org, vendor, "unknown")
    cancel(org, "exp_1")
    make_due()
    work()
    record.refresh_from_db()
    reversal = ExportRecord.objects.get(kind="reversal")
    assert (record.status, reversal.status) == (Status.CANCELLED, Status.CANCELLED)
    assert vendor.reversals == [] and not record.needs_reconcile


def test_each_record_costs_a_fixed_number_of_queries(org, conn, vendor):
    """No query per related row: what a record costs does not depend on the batch (15.8 per record
    with this fake vendor when measured, plus one for duplicate detection on content; the HTTP
    stack of a real one adds its own three)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    approve(org, *[expense(f"exp_{i}") for i in range(15)])
    counts = []
    for batch in (5, 10):
        with CaptureQueriesContext(connection) as ctx:
            assert records_work_due(limit=batch) == {"exported": batch}
        counts.append(len(ctx.captured_queries))
    per_record = (counts[1] - counts[0]) / 5
    assert per_record <= 17, f"{per_record} queries per record"
