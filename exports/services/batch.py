"""Push many: the records of one connection claimed together go out in one vendor call where the
connector offers it (`Connector.push_many_limit`: Xledger's multi-input `addGLImportItems`,
Business Central's `$batch`); records of any other connector are worked one by one, as before.

Each record still takes the worker's whole road (gates, resolution, pre-flight, duplicates) in
`worker.record_work`; only its last step, the vendor call, is collected here (`worker.push_later`)
and made once for all of them. Each document's outcome then goes through the worker's own outcome
steps, so each record keeps its own attempt row, idempotency key (the call log links every
document a call carried, `CallLogDocument`) and the taxonomy's road: a document the vendor refused
goes to review or retry alone while the others are recorded exported; an answer lost for the whole
call puts every document in it to outcome_unknown.

Outcome unknown (a lost batch answer, a worker killed mid-batch whose leases expired): the
records of the connection that need a look-up are looked up together, one `find_by_reference`,
before any of them is sent again. A connection claimed with fewer records than the connector
takes is topped up with its other due records, so one doorbell message (`record_process`) or one
claim of a few records fills a call.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

from django.utils import timezone

from connectors import errors
from connectors.base import Connector, PushResult, connector_class, connector_for
from connectors.entry import AccountingEntry

from ..errors import StaleRecord
from ..models import ExportRecord, Kind
from . import claiming, lookup, outcomes, worker


@dataclass
class _Due:
    record: ExportRecord
    entry: AccountingEntry
    flag: Any


@dataclass
class _Collector:
    """Stands in for the vendor call while records are worked together (`worker.push_later`)."""
    due: list[_Due] = field(default_factory=list)

    def __call__(self, record: ExportRecord, connector: Connector, entry: AccountingEntry, flag: Any) -> bool:
        if not connector.pushes_together(entry):
            return False      # the worker makes the call itself, now
        self.due.append(_Due(record, entry, flag))
        return True


def records_work_batched(records: list[ExportRecord]) -> dict[int, str]:
    """`worker.work_claimed` with push many: record id → new status, for every record worked
    (the ones topped up included)."""
    statuses: dict[int, str] = {}
    groups: dict[int, list[ExportRecord]] = {}
    for record in records:
        groups.setdefault(record.connection_id, []).append(record)
    for connection_id, group in groups.items():
        limit = connector_class(group[0].connection.system).push_many_limit
        if limit < 2:
            statuses.update({record.pk: worker.record_work(record=record) for record in group})
            continue
        if len(group) < limit:
            group += claiming.records_claim_due(limit=limit - len(group), connection_id=connection_id)
        statuses.update(records_push_many(records=group))
    return statuses


def records_push_many(*, records: list[ExportRecord]) -> dict[int, str]:
    """Works claimed records of one connection whose connector pushes many (see the module)."""
    connector = connector_for(records[0].connection)
    statuses = _look_up_together(records, connector)
    collector = _Collector()
    with _collecting(collector):
        for record in records:
            if record.pk not in statuses:
                statuses[record.pk] = worker.record_work(record=record)
    limit = connector.push_many_limit
    for start in range(0, len(collector.due), limit):
        chunk = collector.due[start:start + limit]
        statuses.update(_send(chunk, connector))
    return statuses


@contextmanager
def _collecting(collector: _Collector) -> Iterator[None]:
    token = worker.push_later.set(collector)
    try:
        yield
    finally:
        worker.push_later.reset(token)


def _look_up_together(records: list[ExportRecord], connector: Connector) -> dict[int, str]:
    """One look-up for every record that must be looked up before it is sent again; the ones it
    settles (found at the vendor, or a failed look-up's road) are returned, the others go on
    without a look-up of their own."""
    unsure = [r for r in records if r.needs_reconcile and r.kind != Kind.REVERSAL]
    if not unsure:
        return {}
    conn = records[0].connection
    conn.refresh_from_db(fields=["paused_until", "consecutive_failures", "status", "active"])
    if not conn.active or conn.status == conn.Status.PAUSED or conn.breaker_open:
        return {}      # the worker's own gates decide for each record, nothing is asked of the vendor
    started = timezone.now()
    try:
        found = connector.find_by_reference([r.reference for r in unsure])
    except errors.ConnectorError as exc:
        return {r.pk: _settled(partial(outcomes.failure, r, exc, started)) for r in unsure}
    settled: dict[int, str] = {}
    for record in unsure:
        outcome = _settled(partial(lookup.reconcile, record, connector, started, found=found))
        if outcome:
            settled[record.pk] = outcome
    return settled


def _send(chunk: list[_Due], connector: Connector) -> dict[int, str]:
    started = timezone.now()
    items = [(due.entry, str(due.record.idempotency_key)) for due in chunk]
    results: list[PushResult | errors.ConnectorError]
    try:
        # A batch of one is a push: the vendor's single-document road, as without push many.
        results = [connector.push(*items[0])] if len(items) == 1 else connector.push_many(items)
    except errors.ConnectorError as exc:
        results = [exc] * len(chunk)
    except Exception as exc:  # noqa: BLE001  a bug after sending is indistinguishable from a lost reply
        results = [errors.OutcomeUnknown(f"{type(exc).__name__}: {exc}")] * len(chunk)
    return {due.record.pk: _settled(partial(_outcome, due, result, started))
            for due, result in zip(chunk, results, strict=True)}


def _outcome(due: _Due, result: PushResult | errors.ConnectorError, started: datetime) -> str:
    if isinstance(result, errors.ConnectorError):
        return outcomes.failure(due.record, result, started)
    return outcomes.exported(due.record, result.external_id, started, request_id=result.request_id,
                             warnings=result.warnings, notes=result.notes, flag=due.flag,
                             document_number=result.document_number, vendor_status=result.status)


def _settled(step: Callable[[], str | None]) -> str:
    """A record someone else moved meanwhile is theirs (as `record_work` answers "stale")."""
    try:
        outcome: str = step() or ""
        return outcome
    except StaleRecord:
        return "stale"


def register() -> None:
    """Called at app start (exports/apps.py): the worker's claimed records go through here."""
    worker.work_claimed = records_work_batched
