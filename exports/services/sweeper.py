"""The sweeper (a django-q2 schedule, every minute): expire lost leases, ring the doorbell for
everything due and for sync runs whose message was lost, and bring sync-run counters up to date.
Safe to run any number of times."""

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from ..errors import StaleRecord
from ..messages import said
from ..models import ExportAttempt, ExportRecord, SyncRun
from ..transitions import CLAIMABLE, Status
from . import doorbell
from .status_update import record_transition
from .sync import sync_run_refresh, sync_runs_stalled

SWEEP_LIMIT = 1000


def leases_expire(*, now: datetime | None = None) -> int:
    """A record still in_progress after its lease belongs to a worker that died, maybe mid-call:
    it becomes outcome_unknown, so the next attempt looks it up before sending again."""
    now = now or timezone.now()
    count = 0
    for record in ExportRecord.objects.filter(status=Status.IN_PROGRESS, leased_until__lt=now):
        try:
            with transaction.atomic():
                record_transition(record=record, to=Status.OUTCOME_UNKNOWN, expected=Status.IN_PROGRESS,
                                  needs_reconcile=True, next_attempt_at=now, last_error=said("lease_expired"))
                ExportAttempt.objects.create(
                    record=record, number=record.export_attempts.count() + 1, started_at=now, finished_at=now,
                    outcome=ExportAttempt.Outcome.OUTCOME_UNKNOWN, error_class="LeaseExpired",
                    error_message="the worker holding this record stopped answering")
            count += 1
        except StaleRecord:
            continue
    return count


def records_due(*, now: datetime | None = None, limit: int = SWEEP_LIMIT) -> list[int]:
    now = now or timezone.now()
    return list(ExportRecord.objects.filter(status__in=CLAIMABLE, next_attempt_at__lte=now)
                .order_by("next_attempt_at").values_list("pk", flat=True)[:limit])


def records_sweep() -> dict[str, Any]:
    expired = leases_expire()
    due = records_due()
    doorbell.records_enqueue(record_ids=due)
    stalled = sync_runs_stalled()
    doorbell.sync_runs_enqueue(run_ids=stalled)
    runs = 0
    for run in SyncRun.objects.filter(status=SyncRun.Status.EXPORTING):
        sync_run_refresh(sync_run=run)
        runs += 1
    return {"expired_leases": expired, "enqueued": len(due), "sync_runs": runs, "sync_runs_rung": len(stalled)}
