"""The one download an export waits for: the expense's receipts that intake has not fetched yet."""

from expensico_sync.source.receipts import receipts_fetch

from ..models import ExportRecord, Kind


def receipts_complete(record: ExportRecord) -> None:
    """Downloads the expense's receipts that the intake's fetch has not finished yet, so the entry
    goes out with them. The fetch task and this export are queued side by side and either may run
    first; without this, an expense would often be booked without its receipt and flagged. A
    download that fails is recorded on the receipt, and the push goes on without it (warned)."""
    if record.kind != Kind.EXPENSE:
        return
    expense = record.expense
    assert expense is not None  # an expense record always has its expense
    waiting = [r.pk for r in expense.receipts.all() if not r.verified and not r.fetch_error]
    if not waiting:
        return
    receipts_fetch(receipt_ids=waiting, patient=False)
    expense._prefetched_objects_cache.pop("receipts", None)  # type: ignore[attr-defined]  # Django's prefetch cache
