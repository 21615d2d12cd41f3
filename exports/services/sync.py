"""Manual / historical sync (seed 000): pull a date range from Expensico, make sure every document
in it has a record for the chosen connection, look them all up at the vendor by reference (in
batches) before anything is sent, then let the workers export what is missing."""

import time
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from connectors.base import connector_for
from connectors.errors import ConnectorError
from connectors.models import Connection
from expensico_sync.core.models import Organization
from expensico_sync.source.models import BankStatementLine, CardFunding, Expense, Reimbursement
from expensico_sync.source.pull import pull_sync_create, pull_sync_run

from ..errors import StaleRecord
from ..models import ExportAttempt, ExportRecord, Kind, ReviewItem, SyncRun
from ..transitions import Status
from . import doorbell
from . import records as record_services
from .status_update import record_transition

LOOKUP_BATCH = 50
LOOKUP_SECONDS = 60  # well inside Q_CLUSTER["timeout"]
HELD_REASONS = (ReviewItem.Reason.HOLD_RULE, ReviewItem.Reason.MISSING_RECEIPT, ReviewItem.Reason.MAPPING_GAP)


@transaction.atomic
def sync_run_create(*, connection: Connection, date_from: date, date_to: date, user: User | None = None) -> SyncRun:
    if date_from > date_to:
        raise ValueError("date_from is after date_to")
    if not connection.active:
        raise ValueError("the connection is not active yet: activate it at the end of its setup first")
    run = SyncRun.objects.create(organization_id=connection.organization_id, connection=connection,
                                 date_from=date_from, date_to=date_to, created_by=user)
    transaction.on_commit(lambda: doorbell.sync_runs_enqueue(run_ids=[run.pk]))
    return run


def _pull(run: SyncRun) -> None:
    org = run.organization
    if not org.expensico_api_base_url:
        return  # nothing to pull from: sync what the mirror already holds
    # The range is of document dates; Expensico filters reports by approval, which comes on or after
    # the expense's date: ask up to today, then keep only the documents dated in the range.
    pull = pull_sync_create(organization=org, date_from=run.date_from,
                            date_to=max(run.date_to, timezone.localdate()))
    SyncRun.objects.filter(pk=run.pk).update(pull_sync=pull)
    pull_sync_run(pull_sync=pull)


def sync_run_documents(*, organization_id: int, date_from: date, date_to: date) -> dict[str, Any]:
    """The mirror's documents dated in the range (the document's own date, as the records list
    shows it): what a sync run of that range finds, and its preview."""
    span = (date_from, date_to)
    return {
        "expenses": Expense.objects.filter(organization_id=organization_id, status=Expense.Status.APPROVED,
                                           date__range=span),
        "fundings": CardFunding.objects.filter(organization_id=organization_id, date__range=span),
        "reimbursements": Reimbursement.objects.filter(organization_id=organization_id, date__range=span),
        "lines": BankStatementLine.objects.filter(organization_id=organization_id, date__range=span),
    }


def _documents(run: SyncRun) -> dict[str, list[Any]]:
    return {kind: list(qs) for kind, qs in sync_run_documents(
        organization_id=run.organization_id, date_from=run.date_from, date_to=run.date_to).items()}


@transaction.atomic
def _ensure_records(run: SyncRun) -> int:
    docs = _documents(run)
    conn, org = run.connection, run.organization
    kw: dict[str, Any] = {"organization": org, "sync_run": run, "connections": [conn]}
    record_services.expense_records_create(expenses=docs["expenses"], **kw)
    record_services.funding_records_create(fundings=docs["fundings"], **kw)
    record_services.reimbursement_records_create(reimbursements=docs["reimbursements"], **kw)
    record_services.statement_records_create(lines=docs["lines"], **kw)
    mine = (Q(kind=Kind.EXPENSE, expense__in=docs["expenses"], source_version=F("expense__version"))
            | Q(card_funding__in=docs["fundings"]) | Q(reimbursement__in=docs["reimbursements"])
            | Q(statement_line__in=docs["lines"]))
    return ExportRecord.objects.filter(mine, connection=conn).update(sync_run=run)


def _lookup(run: SyncRun, *, budget_seconds: float = LOOKUP_SECONDS) -> int:
    """Batched find_by_reference for the run's records not sent yet; found ones are exported.
    Bounded in time so the task stays inside the worker timeout: whatever is left is still
    marked needs_reconcile, so the workers look each one up before sending it."""
    connector = connector_for(run.connection)
    found_total = 0
    deadline = time.monotonic() + budget_seconds
    while time.monotonic() < deadline:
        ids = list(run.records.filter(needs_reconcile=True, status__in=(Status.PENDING, Status.RETRY))
                   .values_list("pk", flat=True)[:LOOKUP_BATCH])
        if not ids:
            return found_total
        now = timezone.now()
        lease = now + timedelta(minutes=5)
        ExportRecord.objects.filter(pk__in=ids, status__in=(Status.PENDING, Status.RETRY)).update(
            status=Status.IN_PROGRESS, leased_until=lease, updated_at=now)
        claimed = list(ExportRecord.objects.filter(pk__in=ids, status=Status.IN_PROGRESS, leased_until=lease))
        try:
            remote = connector.find_by_reference([r.reference for r in claimed])
        except ConnectorError as exc:
            # Leave the rest to the workers: they reconcile one by one before sending.
            for record in claimed:
                _release(record, needs_reconcile=True, note=f"batch look-up failed: {exc}")
            return found_total
        for record in claimed:
            doc = remote.get(record.reference)
            if doc is not None and doc.live:
                with transaction.atomic():
                    record_transition(record=record, to=Status.EXPORTED, external_id=doc.external_id,
                                      needs_reconcile=False, next_attempt_at=None)
                    ExportAttempt.objects.create(
                        record=record, number=record.export_attempts.count() + 1, started_at=now,
                        finished_at=timezone.now(), outcome=ExportAttempt.Outcome.RECONCILED,
                        external_id=doc.external_id, error_message="already at the vendor (historical sync)")
                found_total += 1
            else:
                _release(record, needs_reconcile=False)
    return found_total


def _release(record: ExportRecord, *, needs_reconcile: bool, note: str = "") -> None:
    try:
        with transaction.atomic():
            record_transition(record=record, to=Status.PENDING, expected=Status.IN_PROGRESS,
                              needs_reconcile=needs_reconcile, next_attempt_at=timezone.now(),
                              last_error=note)
            record_services.enqueue_on_commit([record.pk])
    except StaleRecord:
        pass


def _task_limit() -> timedelta:
    """django-q2 kills a task running longer than this: a run still pulling after it has no task."""
    return timedelta(seconds=settings.Q_CLUSTER["timeout"])


def sync_runs_stalled(*, now: datetime | None = None) -> list[int]:
    """Runs whose execute message was lost: still queued after the ORM broker would have delivered
    it again, or pulling for longer than any task may run. The Redis broker has no delivery
    receipts, so a worker killed while holding the message loses it and only the sweeper rings again."""
    now = now or timezone.now()
    retry = timedelta(seconds=settings.Q_CLUSTER["retry"])
    return list(SyncRun.objects.filter(Q(status=SyncRun.Status.QUEUED, created_at__lt=now - retry)
                                       | Q(status=SyncRun.Status.PULLING, started_at__lt=now - _task_limit()))
                .values_list("pk", flat=True))


def sync_run_execute(*, sync_run_id: int) -> str:
    run = SyncRun.objects.select_related("connection", "organization").get(pk=sync_run_id)
    now = timezone.now()
    # One execution at a time, however many doorbells: a queued run, or one whose last execution
    # outlived the task limit (its worker is gone). Restarting moves started_at on.
    claimed = SyncRun.objects.filter(
        Q(status=SyncRun.Status.QUEUED) | Q(status=SyncRun.Status.PULLING, started_at__lt=now - _task_limit()),
        pk=run.pk).update(status=SyncRun.Status.PULLING, started_at=now)
    if not claimed:
        return run.status
    run.refresh_from_db()
    try:
        # Everything this run creates is looked up by reference before it can be sent.
        with record_services.reconcile_first():
            _pull(run)
            _ensure_records(run)
        SyncRun.objects.filter(pk=run.pk).update(status=SyncRun.Status.EXPORTING)
        if run.organization.mode not in (Organization.Mode.DRY_RUN, Organization.Mode.PAUSED):
            _lookup(run)  # a read, but dry run and paused promise no calls at all
    except Exception as exc:
        SyncRun.objects.filter(pk=run.pk).update(status=SyncRun.Status.FAILED, error=repr(exc)[:2000],
                                                 finished_at=timezone.now())
        raise
    run.refresh_from_db()
    return sync_run_refresh(sync_run=run).status


def sync_run_counts(*, sync_run: SyncRun) -> dict[str, Any]:
    """The run's counters recounted from its records (a read); a run whose records have all
    settled comes back finished. Empty for a run that is not exporting."""
    if sync_run.status != SyncRun.Status.EXPORTING:
        return {}
    records = sync_run.records.all()
    exported = records.filter(status=Status.EXPORTED)
    already = exported.filter(Q(exported_at__lt=sync_run.started_at)
                              | Q(export_attempts__outcome=ExportAttempt.Outcome.RECONCILED)).distinct().count()
    open_reviews = ReviewItem.objects.filter(record__sync_run=sync_run, resolved_at__isnull=True)
    held = open_reviews.filter(reason__in=HELD_REASONS).count() + records.filter(
        status=Status.PENDING).exclude(wait_reason="").count()
    # A vendor warning sits on a record that is booked (counted as exported), not a failure.
    failed = open_reviews.exclude(reason__in=(*HELD_REASONS, ReviewItem.Reason.VENDOR_WARNING)).count()
    in_flight = records.filter(Q(status__in=(Status.RETRY, Status.IN_PROGRESS, Status.OUTCOME_UNKNOWN))
                               | Q(status=Status.PENDING, wait_reason="")).count()
    fields: dict[str, Any] = {"found": records.count(), "already_there": already, "exported": exported.count() - already,
              "held": held, "failed": failed}
    if in_flight == 0:
        fields.update(status=SyncRun.Status.FINISHED, finished_at=timezone.now())
    return fields


def sync_run_live(*, sync_run: SyncRun) -> SyncRun:
    """The run as it stands now, for pages and the API: counted, never written (a GET changes no
    row); the sweeper and the run's own task store the counts."""
    for name, value in sync_run_counts(sync_run=sync_run).items():
        setattr(sync_run, name, value)
    return sync_run


def sync_run_refresh(*, sync_run: SyncRun) -> SyncRun:
    """Stores the recount; a run whose records have all settled is finished."""
    if fields := sync_run_counts(sync_run=sync_run):
        SyncRun.objects.filter(pk=sync_run.pk, status=SyncRun.Status.EXPORTING).update(**fields)
        sync_run.refresh_from_db()
    return sync_run
