"""The lean export path (issue 22): what a claimed batch reads once, the mapping snapshot reused
while its fingerprint holds, the preview written with the transition, an open breaker met at send
time, a record found at the vendor after its worker died. Statement counts, never timings."""

from datetime import timedelta

import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from connectors.base import connector_for
from connectors.breaker import CircuitOpen
from exports.errors import StaleRecord
from exports.models import ExportAttempt, ExportRecord
from exports.services import outcomes
from exports.services.worker import records_work_due
from exports.transitions import IllegalTransition, Status
from mappings.models import CategoryMapping

from .conftest import approve, expense

pytestmark = pytest.mark.django_db


def _approve_many(org, n, start=0, rid="rpt_1"):
    approve(org, *[expense(f"exp_{i}", amount=f"{100 + i}.00", receipts=[]) for i in range(start, start + n)],
            rid=rid)


def test_a_warm_batch_costs_three_statements_per_record_and_a_dozen_per_batch(org, conn, vendor):
    _approve_many(org, 2)
    assert records_work_due(limit=10) == {"exported": 2}          # warms this process's snapshot
    _approve_many(org, 10, start=2, rid="rpt_2")
    with CaptureQueriesContext(db_connection) as ctx:
        assert records_work_due(limit=10) == {"exported": 10}
    per_record = [q["sql"] for q in ctx.captured_queries if '"exports_exportattempt"' in q["sql"]
                  or 'UPDATE "exports_exportrecord" SET "mapping_version"' in q["sql"]]   # (in the log's CTE on PostgreSQL)
    # Each record: the duplicate check and one statement for the transition, its preview, its
    # status-change log and its attempt (numbered inside its INSERT) on PostgreSQL; SQLite sends
    # the UPDATE, the log's INSERT and the attempt's INSERT apart. Each batch: claim (3), expenses
    # + receipts (2), mapping fingerprint (3), month locks (1), vendor metadata (at most 1), plus
    # what the fake vendor's connection needs.
    on_postgresql = db_connection.vendor == "postgresql"
    assert len(per_record) == (10 if on_postgresql else 20), per_record
    if on_postgresql:
        assert all('"exports_statuschange"' in sql and '"exports_exportattempt"' in sql for sql in per_record)
    # (Savepoints are the test's own transaction around each atomic block: BEGIN/COMMIT in production.)
    sent = [q["sql"] for q in ctx.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]
    # The status-change log rides in the transition's statement on PostgreSQL; SQLite adds an INSERT.
    apart = 0 if on_postgresql else 2 * 10
    assert len(sent) <= 2 * 10 + 12 + apart, [q[:90] for q in sent]
    record = ExportRecord.objects.get(source_id="exp_11")
    assert record.entry_preview and record.payload_preview and record.mapping_version
    assert list(record.export_attempts.values_list("number", flat=True)) == [1]


def test_an_attempt_is_written_only_with_its_transition(org, conn, vendor):
    approve(org, expense("exp_1"))
    record = ExportRecord.objects.get()
    ExportRecord.objects.filter(pk=record.pk).update(status=Status.IN_PROGRESS)
    record.refresh_from_db()
    # The sweeper moved it meanwhile (an expired lease): the compare-and-set fails.
    ExportRecord.objects.filter(pk=record.pk).update(status=Status.OUTCOME_UNKNOWN)
    with pytest.raises((StaleRecord, IllegalTransition)):
        outcomes.exported(record, "ext-1", timezone.now())
    assert not ExportAttempt.objects.exists()
    assert not record.status_changes.filter(to_status=Status.EXPORTED).exists()


def test_attempts_are_numbered_in_order_without_a_count(org, conn, vendor):
    approve(org, expense("exp_1"))
    vendor.faults = ["transient", "transient"]
    for _ in range(3):
        ExportRecord.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
        records_work_due(limit=5)
    record = ExportRecord.objects.get()
    assert record.status == Status.EXPORTED
    assert list(record.export_attempts.values_list("number", "outcome")) == [
        (1, "retry"), (2, "retry"), (3, "exported")]


def test_a_mapping_saved_between_batches_is_used_by_the_next_batch(org, conn, vendor):
    approve(org, expense("exp_1"))
    assert records_work_due(limit=5) == {"exported": 1}
    travel = CategoryMapping.objects.get(connection=conn, category_code="TRAVEL")
    travel.account = "acc-changed"
    travel.save()
    approve(org, expense("exp_2"), rid="rpt_2")
    assert records_work_due(limit=5) == {"exported": 1}
    assert vendor.documents["EXPENSICO-exp_2-v1"]["entry"].lines[0].account == "acc-changed"
    assert vendor.documents["EXPENSICO-exp_1-v1"]["entry"].lines[0].account == "acc-travel"
    first, second = (ExportRecord.objects.get(source_id=s).mapping_version for s in ("exp_1", "exp_2"))
    assert first != second


def test_a_mapping_deleted_between_batches_is_a_gap_for_the_next_batch(org, conn, vendor):
    approve(org, expense("exp_1"))
    assert records_work_due(limit=5) == {"exported": 1}
    CategoryMapping.objects.get(connection=conn, category_code="TRAVEL").delete()
    approve(org, expense("exp_2"), rid="rpt_2")
    assert records_work_due(limit=5) == {"needs_review": 1}


def test_an_open_breaker_met_at_send_waits_without_spending_an_attempt(org, conn, vendor, monkeypatch):
    approve(org, expense("exp_1"))

    def breaker_open(self, entry, idempotency_key):
        raise CircuitOpen("circuit open", retry_after=42)

    monkeypatch.setattr(type(connector_for(conn)), "push", breaker_open)
    assert records_work_due(limit=5) == {"retry": 1}
    record = ExportRecord.objects.get()
    assert record.attempts == 0 and record.wait_reason == "connection breaker open"
    assert 40 <= (record.next_attempt_at - timezone.now()).total_seconds() <= 43
    assert not record.export_attempts.exists()
    # Nothing was sent, but the preview the worker built is kept with the wait.
    assert record.entry_preview and record.payload_preview


def test_found_at_the_vendor_after_the_worker_died_keeps_the_entry_it_sent(org, conn, vendor):
    approve(org, expense("exp_1"))
    vendor.faults = ["unknown_committed"]
    assert records_work_due(limit=5) == {"outcome_unknown": 1}
    # As if the worker had died after sending, before writing anything down.
    ExportRecord.objects.update(entry_preview=None, payload_preview=None,
                                next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert records_work_due(limit=5) == {"exported": 1}
    record = ExportRecord.objects.get()
    assert record.export_attempts.order_by("number").last().outcome == ExportAttempt.Outcome.RECONCILED
    assert record.entry_preview["reference"] == "EXPENSICO-exp_1-v1"
    assert vendor.pushes == 1
