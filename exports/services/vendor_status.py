"""Documents a vendor accepted but has not booked (Workday journals left in draft or awaiting
approval): re-checked on a schedule, in one batched lookup per connection, until posted or
rejected. Posted: the status is cleared and the "left as a draft" warning is closed. Rejected
(cancelled, or gone): the record goes back to review, since nothing is booked."""

from collections import defaultdict
from collections.abc import Collection

from django.db import transaction

from connectors import errors
from connectors.base import RemoteDocument, connector_class, connector_for

from ..messages import said
from ..models import ExportRecord, ReviewItem
from ..transitions import Status
from .review import review_item_open, review_item_resolve
from .status_update import record_transition

BATCH = 100


def records_vendor_status_recheck() -> dict[str, int]:
    counts = {"posted": 0, "rejected": 0, "unchanged": 0, "failed": 0}
    pending: dict[int, list[ExportRecord]] = defaultdict(list)
    for record in (ExportRecord.objects.select_related("connection").filter(status=Status.EXPORTED)
                   .exclude(vendor_status="").order_by("connection_id", "id")):
        if record.vendor_status in connector_class(record.connection.system).unsettled_statuses:
            pending[record.connection_id].append(record)
    for records in pending.values():
        connector = connector_for(records[0].connection)
        for start in range(0, len(records), BATCH):
            chunk = records[start:start + BATCH]
            try:
                found = connector.find_by_reference([r.reference for r in chunk])    # outside any transaction
            except errors.ConnectorError:
                counts["failed"] += len(chunk)      # the next run asks again
                continue
            for record in chunk:
                counts[_settle(record, found.get(record.reference), connector.unsettled_statuses)] += 1
    return counts


def _settle(record: ExportRecord, doc: RemoteDocument | None, unsettled: Collection[str]) -> str:
    if doc is not None and doc.live and doc.status in unsettled:
        if doc.status != record.vendor_status:
            ExportRecord.objects.filter(pk=record.pk).update(vendor_status=doc.status)
        return "unchanged"
    with transaction.atomic():
        if doc is not None and doc.live:
            ExportRecord.objects.filter(pk=record.pk).update(vendor_status="")
            for item in ReviewItem.objects.filter(record=record, reason=ReviewItem.Reason.VENDOR_WARNING,
                                                  resolved_at__isnull=True):
                review_item_resolve(item=item, resolution=ReviewItem.Resolution.ACKNOWLEDGED,
                                    note=f"posted in the vendor ({doc.status})")
            return "posted"
        status = doc.status if doc is not None else "gone"
        for item in ReviewItem.objects.filter(record=record, reason=ReviewItem.Reason.VENDOR_WARNING,
                                              resolved_at__isnull=True):
            review_item_resolve(item=item, resolution=ReviewItem.Resolution.ACKNOWLEDGED,
                                note=f"superseded: rejected in the vendor ({status})")
        record_transition(record=record, to=Status.NEEDS_REVIEW, vendor_status="",
                          last_error=said("vendor_rejected", status=status))
        review_item_open(record=record, reason=ReviewItem.Reason.VALIDATION,
                         detail=said("vendor_rejected_after", reference=record.reference, status=status),
                         context={"vendor_status": status, "field": "status"})
    return "rejected"
