"""Creating export records: the outbox rows the source mirror implies.

Called from the source signals, inside the intake/pull transaction, so a delivery is mirrored
and its records exist together or not at all. Nothing here calls out; the doorbell (a task) is
rung on commit and the sweeper rings it again if that message is lost.
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from connectors.entry import reference_for
from connectors.models import Connection
from expensico_sync.core.models import Organization
from expensico_sync.source.models import BankStatementLine, CardFunding, Expense, Reimbursement

from ..entries import reversal_reference
from ..errors import StaleRecord
from ..messages import said
from ..models import ExportRecord, Kind, ReviewItem, SyncRun
from ..transitions import UNSENT, Status
from . import doorbell
from .status_update import record_transition

_reconcile_first: ContextVar[bool] = ContextVar("exports_reconcile_first", default=False)


@contextmanager
def reconcile_first() -> Iterator[None]:
    """Records created inside are looked up by reference before they are ever sent (history)."""
    token = _reconcile_first.set(True)
    try:
        yield
    finally:
        _reconcile_first.reset(token)


def connections_for(organization: Organization) -> list[Connection]:
    """The connections new documents go to: active ones only (an inactive one is still being set up)."""
    return list(Connection.objects.filter(organization=organization, active=True).order_by("pk"))


def _before_start(connection: Connection, day: date | None, *, explicit: bool) -> bool:
    """A document dated before the connection's start date is not exported, unless a person asked
    for it (a historical sync names its connections)."""
    return not explicit and connection.export_from is not None and day is not None and day < connection.export_from


def enqueue_on_commit(record_ids: list[int]) -> None:
    if not record_ids:
        return
    transaction.on_commit(lambda: doorbell.records_enqueue(record_ids=record_ids))


def record_create(*, connection: Connection, kind: str, source_id: str, source_version: int,
                  reference: str, sync_run: SyncRun | None = None, **links: Any) -> tuple[ExportRecord, bool]:
    """Get-or-create on the unique document key: a replayed delivery creates nothing new."""
    record, created = ExportRecord.objects.get_or_create(
        connection=connection, kind=kind, source_id=source_id, source_version=source_version,
        defaults={"organization_id": connection.organization_id, "reference": reference,
                  "next_attempt_at": timezone.now(), "sync_run": sync_run,
                  "needs_reconcile": _reconcile_first.get(), **links},
    )
    return record, created


def close_open_reviews(record: ExportRecord, resolution: str, note: str) -> None:
    ReviewItem.objects.filter(record=record, resolved_at__isnull=True).update(
        resolution=resolution, resolution_note=note, resolved_at=timezone.now(), resolved_by_label="system")


def _retire(record: ExportRecord, to: str, why: str, *, connection: Connection) -> ExportRecord | None:
    """Cancels/supersedes an unsent record, or (if it was or may have been sent) creates its reversal."""
    for _ in range(3):
        if record.status in (Status.CANCELLED, Status.SUPERSEDED):
            return None
        # A record that may already have reached the vendor (needs_reconcile) is not "unsent", even
        # parked for a person: a reversal looks it up (or waits for the worker to) and undoes it if found.
        if record.status in UNSENT and not record.needs_reconcile:
            try:
                record_transition(record=record, to=to, last_error=why, next_attempt_at=None)
                close_open_reviews(record, ReviewItem.Resolution.SKIPPED, why)
                return None
            except StaleRecord:
                record.refresh_from_db()
                continue
        # exported, in progress or outcome unknown: the vendor may hold it, so undo it there.
        reversal, _ = record_create(
            connection=connection, kind=Kind.REVERSAL, source_id=record.source_id,
            source_version=record.source_version, reference=reversal_reference(record.reference),
            expense=record.expense, employee=record.employee, reverses=record,
            document_date=record.document_date)
        return reversal
    raise StaleRecord(said("kept_moving", record=record.pk))


def _expense_records_known(connections: list[Connection], expenses: list[Expense]) -> dict[tuple[int, str], list[ExportRecord]]:
    """Every expense record of these expenses in these connections, in one query, newest first."""
    known: dict[tuple[int, str], list[ExportRecord]] = {}
    for record in ExportRecord.objects.filter(connection__in=connections, kind=Kind.EXPENSE,
                                              source_id__in={e.expensico_id for e in expenses}).order_by("-id"):
        known.setdefault((record.connection_id, record.source_id), []).append(record)
    return known


def _records_insert(records: list[ExportRecord]) -> list[tuple[ExportRecord, bool]]:
    """One INSERT for all new records; if another transaction created one of them meanwhile (the
    unique document key refuses it), each is got-or-created instead, as a replay would be.
    Returns (record, created) pairs."""
    if not records:
        return []
    try:
        with transaction.atomic():
            ExportRecord.objects.bulk_create(records)
    except IntegrityError:
        return [record_create(connection=r.connection, kind=r.kind, source_id=r.source_id,
                              source_version=r.source_version, reference=r.reference, sync_run=r.sync_run,
                              expense=r.expense, employee_id=r.employee_id, document_date=r.document_date)
                for r in records]
    for record in records:
        record._loaded_status = record.status  # as a saved instance has it (ExportRecord.save checks transitions)
    return [(r, True) for r in records]


@transaction.atomic
def expense_records_create(*, organization: Organization, expenses: Iterable[Expense], sync_run: SyncRun | None = None,
                           connections: Iterable[Connection] | None = None) -> list[ExportRecord]:
    """One expense record per connection per expense version; older versions are retired.

    A constant number of statements for any number of expenses (one look-up, one insert) unless
    older versions need retiring: intake writes a 100-expense report inside its 202."""
    touched: list[int] = []
    explicit = connections is not None
    targets = list(connections) if connections is not None else connections_for(organization)
    live = [e for e in expenses if e.status == "approved"]
    if not targets or not live:
        return []
    known = _expense_records_known(targets, live)
    new, planned, now = [], set(), timezone.now()
    for connection in targets:
        for expense in live:
            key = (connection.pk, expense.expensico_id)
            older = [r for r in known.get(key, []) if r.source_version < expense.version]
            # A new version of a document exported before still retires the old one.
            if _before_start(connection, expense.date, explicit=explicit) and not older:
                continue
            for old in older:
                reversal = _retire(old, Status.SUPERSEDED, f"superseded by v{expense.version}",
                                   connection=connection)
                if reversal:
                    touched.append(reversal.pk)
            same = [r for r in known.get(key, []) if r.source_version == expense.version]
            if same:  # a replay: nothing new
                touched.append(same[0].pk)
            elif (key, expense.version) not in planned:
                planned.add((key, expense.version))
                new.append(ExportRecord(
                    connection=connection, organization_id=connection.organization_id, kind=Kind.EXPENSE,
                    source_id=expense.expensico_id, source_version=expense.version,
                    reference=reference_for(expense.expensico_id, expense.version), expense=expense,
                    employee_id=expense.employee_id, document_date=expense.date, sync_run=sync_run,
                    next_attempt_at=now, needs_reconcile=_reconcile_first.get()))
    inserted = _records_insert(new)
    touched += [r.pk for r, _ in inserted]
    enqueue_on_commit(touched)
    return [r for r, created in inserted if created]


@transaction.atomic
def expense_records_cancel(*, organization: Organization, expense: Expense) -> list[ExportRecord]:
    """`expense.cancelled`: unsent records are cancelled, sent ones get a reversal record."""
    reversals = []
    records = ExportRecord.objects.filter(organization=organization, kind=Kind.EXPENSE,
                                          source_id=expense.expensico_id).select_related("connection")
    for record in records:
        reversal = _retire(record, Status.CANCELLED, f"expense cancelled: {expense.cancel_reason}".strip(),
                           connection=record.connection)
        if reversal:
            reversals.append(reversal)
    enqueue_on_commit([r.pk for r in reversals])
    return reversals


BankDocument = CardFunding | Reimbursement | BankStatementLine


def _bank_records(organization: Organization, documents: Iterable[BankDocument], *, kind: str, link: str,
                  sync_run: SyncRun | None = None, connections: Iterable[Connection] | None = None,
                  ) -> list[ExportRecord]:
    created = []
    explicit = connections is not None
    for connection in connections if connections is not None else connections_for(organization):
        for doc in documents:
            if _before_start(connection, doc.date, explicit=explicit):
                continue
            record, new = record_create(
                connection=connection, kind=kind, source_id=doc.expensico_id, source_version=1,
                reference=reference_for(doc.expensico_id, 1), document_date=doc.date, sync_run=sync_run,
                employee_id=getattr(doc, "employee_id", None), **{link: doc})
            if new:
                created.append(record)
    enqueue_on_commit([r.pk for r in created])
    return created


@transaction.atomic
def funding_records_create(*, organization: Organization, fundings: Iterable[CardFunding],
                           sync_run: SyncRun | None = None, connections: Iterable[Connection] | None = None,
                           ) -> list[ExportRecord]:
    return _bank_records(organization, fundings, kind=Kind.LEDGER_BANK_TRANSACTION, link="card_funding",
                         sync_run=sync_run, connections=connections)


@transaction.atomic
def reimbursement_records_create(*, organization: Organization, reimbursements: Iterable[Reimbursement],
                                 sync_run: SyncRun | None = None, connections: Iterable[Connection] | None = None,
                                 ) -> list[ExportRecord]:
    return _bank_records(organization, reimbursements, kind=Kind.LEDGER_BANK_TRANSACTION, link="reimbursement",
                         sync_run=sync_run, connections=connections)


@transaction.atomic
def statement_records_create(*, organization: Organization, lines: Iterable[BankStatementLine],
                             sync_run: SyncRun | None = None, connections: Iterable[Connection] | None = None,
                             ) -> list[ExportRecord]:
    """Deduplicated by line id: the unique key makes a repeated line a no-op."""
    return _bank_records(organization, lines, kind=Kind.STATEMENT_TRANSACTION, link="statement_line",
                         sync_run=sync_run, connections=connections)
