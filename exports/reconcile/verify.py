"""Verification: after export, off the hot path, each booked document is read back from the
vendor by reference and compared with our entry (reference, currency, date, gross amount, net per
account). A match stores `verified_at` and the SHA-256 of the vendor's copy on the record; a
deleted, changed or duplicated document opens a `vendor_mismatch` review item naming the change.

A django-q2 schedule runs `records_verify_due` every 10 minutes; references go to the vendor in
batches (`EXPORTS_VERIFY_BATCH`, 100), so a month of exports costs one read-back per batch. A
vendor that bills requests waits for a full batch, or a day (`EXPORTS_VERIFY_BILLED_WAIT_HOURS`).
Reconciliation re-checks the same way (`document_check`), so a change made in the vendor after
verification is still caught when the month is reconciled.
"""

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from connectors.base import VendorDocument, connector_class, connector_for
from connectors.errors import ConnectorError
from connectors.models import Connection
from expensico_sync.core.models import Organization

from ..messages import TEXTS, said
from ..models import ExportRecord, Kind, ReviewItem
from ..services.review import review_item_open
from ..transitions import Status
from .documents import content_hash, differences

log = logging.getLogger(__name__)

LEDGER_KINDS = (Kind.EXPENSE, Kind.REVERSAL, Kind.LEDGER_BANK_TRANSACTION)


def batch_size() -> int:
    return getattr(settings, "EXPORTS_VERIFY_BATCH", 100)


def billed_wait() -> timedelta:
    """How long a vendor that bills read-back requests waits for a full batch before a partial one."""
    return timedelta(hours=getattr(settings, "EXPORTS_VERIFY_BILLED_WAIT_HOURS", 24))


def worth_a_request(connector, records: list[ExportRecord], now) -> bool:
    """A vendor that bills requests (Xledger) is asked only for a full batch, or once the oldest
    record due has waited `billed_wait()`: a tick every 10 minutes must not spend its budget."""
    if connector.read_back_request_budget is None or len(records) >= batch_size():
        return True
    return bool(records) and records[0].exported_at is not None and records[0].exported_at <= now - billed_wait()


@dataclass(frozen=True)
class Check:
    """The vendor's copy of one of our records, judged."""
    change: str                       # "" (as booked) · deleted · changed · duplicated · cancelled
    changes: tuple[str, ...] = ()
    vendor_hash: str = ""
    external_ids: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.change


def document_check(record: ExportRecord, docs: Sequence[VendorDocument]) -> Check:
    """Judges the vendor documents carrying `record.reference` against the record's entry."""
    live = [doc for doc in docs if doc.status != "cancelled"]
    ids = tuple(doc.external_id for doc in docs)
    if not live:
        if record.kind == Kind.REVERSAL:
            return Check("")       # the vendor undid it by deleting or cancelling: nothing to hold
        if docs:
            return Check("cancelled", (said("cancelled_in_vendor"),), external_ids=ids)
        return Check("deleted", (said("gone_from_vendor", reference=record.reference),))
    if len(live) > 1:
        return Check("duplicated", (said("documents_carry", count=len(live), reference=record.reference),),
                     external_ids=tuple(doc.external_id for doc in live))
    doc = live[0]
    changes = tuple(differences(record.entry_preview or {}, doc)) if record.entry_preview else ()
    return Check("changed" if changes else "", changes, content_hash(doc), (doc.external_id,))


def mismatch_open(*, record: ExportRecord, check: Check, by: str) -> ReviewItem | None:
    """Opens (once) a vendor_mismatch item on a booked record; an open one is left as it is."""
    open_item = ReviewItem.objects.filter(record=record, resolved_at__isnull=True).first()
    if open_item and open_item.reason == ReviewItem.Reason.VENDOR_MISMATCH:
        return None
    code = f"mismatch_{check.change}" if f"mismatch_{check.change}" in TEXTS else ""
    detail = said(code, changes=list(check.changes)) if code else \
        f"{check.change} in the vendor after booking: " + "; ".join(check.changes)
    return review_item_open(record=record, reason=ReviewItem.Reason.VENDOR_MISMATCH, detail=detail,
                            severity=ReviewItem.Severity.HIGH,
                            context={"change": check.change, "changes": [str(c) for c in check.changes], "found_by": by,
                                     "external_ids": list(check.external_ids), "vendor_hash": check.vendor_hash})


def _settle(record: ExportRecord, check: Check, now) -> str:
    with transaction.atomic():
        if check.ok:
            ExportRecord.objects.filter(pk=record.pk).update(verified_at=now, vendor_hash=check.vendor_hash)
            return "verified"
        mismatch_open(record=record, check=check, by="verification")
        return check.change


def _capable(connection: Connection) -> bool:
    try:
        return connector_class(connection.system).reads_back
    except LookupError:
        return False


def records_due(connection: Connection):
    """Booked, not yet verified, not undone since, and not already found different."""
    return (ExportRecord.objects.filter(connection=connection, status=Status.EXPORTED, kind__in=LEDGER_KINDS,
                                        verified_at__isnull=True, entry_preview__isnull=False)
            .exclude(reversals__isnull=False)
            .exclude(review_items__reason=ReviewItem.Reason.VENDOR_MISMATCH)
            .order_by("exported_at", "pk"))


def read_back_by_reference(connector, references: Iterable[str]) -> tuple[dict[str, list[VendorDocument]], int]:
    """The vendor's documents per reference, and the requests that cost."""
    found: dict[str, list[VendorDocument]] = defaultdict(list)
    requests = 0
    for page in connector.read_back(references=list(references)):
        requests += page.requests
        for doc in page.documents:
            found[doc.reference].append(doc)
    return found, requests


def connection_verify(*, connection: Connection, limit: int = 1000) -> dict[str, int]:
    """Verifies up to `limit` due records of one connection, one read-back per batch."""
    connector = connector_for(connection)
    if not connector.reads_back:
        return {}
    counts: dict[str, int] = defaultdict(int)
    records = list(records_due(connection)[:limit])
    if not worth_a_request(connector, records, timezone.now()):
        return {"waiting": len(records)}
    for start in range(0, len(records), batch_size()):
        batch = records[start:start + batch_size()]
        found, requests = read_back_by_reference(connector, [r.reference for r in batch])
        counts["requests"] += requests
        now = timezone.now()
        for record in batch:
            counts[_settle(record, document_check(record, found.get(record.reference, [])), now)] += 1
    return dict(counts)


def records_verify_due(*, limit: int = 1000) -> dict[str, int]:
    """Every connected connection that reads back; one failing connection never stops the others."""
    totals: dict[str, int] = defaultdict(int)
    quiet = (Organization.Mode.DRY_RUN, Organization.Mode.PAUSED)
    for connection in Connection.objects.filter(status=Connection.Status.CONNECTED, active=True).exclude(
            organization__mode__in=quiet).order_by("pk"):
        if not _capable(connection) or connection.breaker_open:
            continue
        try:
            counts = connection_verify(connection=connection, limit=limit)
        except ConnectorError as exc:
            log.warning("verification of connection %s failed: %s", connection.pk, exc)
            totals["errors"] += 1
            continue
        totals["connections"] += 1
        for key, value in counts.items():
            totals[key] += value
    return dict(totals)
