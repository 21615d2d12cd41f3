"""The status-change log's retention policy: the worker's routine steps of settled records go
after the period; people's decisions and the changes that matter to an auditor stay; a signed
month's evidence pack is unchanged; a legal hold keeps everything."""

import csv
import io
import zipfile
from datetime import UTC, date, datetime

import pytest
from dateutil.relativedelta import relativedelta

from expensico_sync.retention.models import RetentionSettings
from expensico_sync.retention.registry import policy
from expensico_sync.retention.services import apply, plan
from exports.close.evidence import evidence_pack_build
from exports.models import ExportRecord, MonthClose, StatusChange
from exports.services.worker import records_work_due

from .conftest import approve, expense

pytestmark = pytest.mark.django_db
NOV = date(2026, 11, 1)
THEN = datetime(2026, 11, 5, 9, 0, tzinfo=UTC)
LATER = THEN + relativedelta(months=25)          # past the 24-month default


def step(record, to, *, frm="in_progress", actor="", why=""):
    return StatusChange.objects.create(record=record, at=THEN, from_status=frm, to_status=to, actor=actor, why=why)


@pytest.fixture
def month(org, conn, vendor):
    approve(org, expense("exp_1"), expense("exp_2"), expense("exp_3"))
    records_work_due()
    booked, cancelled, waiting = ExportRecord.objects.order_by("source_id")
    assert booked.status == "exported"
    StatusChange.objects.filter(record__in=[cancelled, waiting]).delete()   # their own story below
    step(booked, "retry", why="HTTP 503 from the vendor")            # routine: the attempts keep the answer
    step(booked, "in_progress", frm="retry")
    ExportRecord.objects.filter(pk=cancelled.pk).update(status="cancelled")
    step(cancelled, "pending", why="lease expired")                  # routine
    step(cancelled, "needs_review", why="account 6100 blocked")       # what an auditor asks about
    step(cancelled, "cancelled", frm="needs_review", actor="noura", why="skipped: personal trip")
    ExportRecord.objects.filter(pk=waiting.pk).update(status="retry")
    step(waiting, "retry", why="HTTP 429")                           # not settled: kept whatever its age
    StatusChange.objects.update(at=THEN)
    MonthClose.objects.create(organization=org, period=NOV, status=MonthClose.Status.SIGNED_OFF,
                              signed_off_at=THEN, signed_off_by_label="noura")
    return booked, cancelled, waiting


def tables(connection) -> dict[str, list[dict]]:
    archive = zipfile.ZipFile(io.BytesIO(evidence_pack_build(connection=connection, period=NOV)))
    return {name: list(csv.DictReader(io.StringIO(archive.read(name).decode("utf-8-sig"))))
            for name in archive.namelist() if name.endswith(".csv")}


def test_routine_steps_of_settled_records_go_and_decisions_stay(org, conn, month):
    booked, cancelled, waiting = month
    assert policy("exports.status_log").default_months == 24
    due = {s.policy.key: s.rows for s in plan(org, now=THEN + relativedelta(months=23))}
    assert due["exports.status_log"] == 0                          # within the period: nothing
    evidence_before = tables(conn)

    applied = {s.policy.key: s.applied for s in apply(org, now=LATER)}
    assert applied["exports.status_log"] == 3
    kept = lambda record: [(c.to_status, c.actor) for c in record.status_changes.order_by("id")]  # noqa: E731
    assert kept(booked) == [("exported", "")]
    assert kept(cancelled) == [("needs_review", ""), ("cancelled", "noura")]
    assert kept(waiting) == [("retry", "")]
    assert tables(conn) == evidence_before and evidence_before["chain.csv"]     # the signed month's evidence
    assert {s.policy.key: s.rows for s in plan(org, now=LATER)}["exports.status_log"] == 0


def test_a_legal_hold_or_a_longer_period_keeps_the_log(org, month):
    RetentionSettings.objects.create(organization=org, months={"exports.status_log": 36})
    assert {s.policy.key: s.rows for s in plan(org, now=LATER)}["exports.status_log"] == 0
    RetentionSettings.objects.filter(organization=org).update(months={}, legal_hold=True, legal_hold_reason="audit")
    apply(org, now=LATER)
    assert StatusChange.objects.count() == 7
