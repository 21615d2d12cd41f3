"""Fetching receipt files into storage, outside any transaction, checked against their sha256.

Receipts live on the organisation's Expensico API (expensico-api.md §2, /v1/receipts/{id}/content),
so a receipt URL on any other scheme, host or port is refused, whatever a signed webhook says: it
would otherwise be a way to make this server fetch arbitrary addresses. The download goes through
the pull client's guarded session (allowed hosts only, public addresses only unless the deployment
lists the host, no redirect off the host) and is capped in bytes and time.
"""

import hashlib
import re
import time
from pathlib import PurePosixPath

import requests
import stamina
import structlog
from django.conf import settings
from django.core.files.base import ContentFile
from django.utils import timezone

from expensico_sync.core.outbound import origin, url_for_log

from .client import TIMEOUT, ExpensicoClient, ExpensicoError, _should_retry
from .models import Receipt

log = structlog.get_logger(__name__)
QUICK_TIMEOUT = (3, 20)
SAFE_SUFFIX = re.compile(r"^\.[A-Za-z0-9]{1,10}$")


class ReceiptRefused(ExpensicoError):
    pass


def storage_name(receipt: Receipt) -> str:
    """A generated name: the sender's filename may hold "../", separators or odd characters, and
    storage refuses those (the receipt then never landed and its expense could not be exported).
    The sender's name stays on the row for display and for the vendor upload."""
    suffix = PurePosixPath(receipt.filename.replace("\\", "/")).suffix
    return f"receipt-{receipt.pk}-{receipt.sha256[:16]}{suffix.lower() if SAFE_SUFFIX.match(suffix) else ''}"


def _url_check(receipt: Receipt, base: str) -> None:
    if not base:
        raise ReceiptRefused("refused: the organisation has no Expensico API base URL, and receipts are "
                             "fetched only from it")
    if origin(receipt.url) != origin(base):
        raise ReceiptRefused(f"refused: {url_for_log(receipt.url)} is not the organisation's Expensico API "
                             f"({url_for_log(base)})")


def _download(receipt: Receipt, *, patient: bool) -> bytes:
    org = receipt.expense.organization
    _url_check(receipt, org.expensico_api_base_url)
    client = ExpensicoClient.for_organization(org)
    stop_at = time.monotonic() + settings.RECEIPT_DEADLINE_SECONDS
    kwargs = {"max_bytes": settings.RECEIPT_MAX_BYTES, "stop_at": stop_at}
    if not patient:
        return client.download(receipt.url, timeout=QUICK_TIMEOUT, **kwargs)
    # The intake's own fetch has time: retry a busy Expensico, within the same deadline.
    retrying = stamina.retry(on=_should_retry, attempts=6, timeout=settings.RECEIPT_DEADLINE_SECONDS)
    return retrying(client.download)(receipt.url, timeout=TIMEOUT, **kwargs)


def receipts_fetch(*, receipt_ids: list[int], patient: bool = True) -> dict:
    """`patient=False` (an export worker about to push): one try, short timeouts, so an Expensico
    outage costs a booking its receipt (flagged for a person), never a worker's minutes. A receipt
    that fails or is refused keeps its reason in `fetch_error`; the others go on."""
    counts = {"verified": 0, "mismatch": 0, "failed": 0}
    for receipt in Receipt.objects.filter(pk__in=receipt_ids, verified=False).select_related("expense__organization"):
        try:
            content = _download(receipt, patient=patient)
        except (requests.RequestException, ExpensicoError) as exc:
            counts["failed"] += 1
            Receipt.objects.filter(pk=receipt.pk).update(fetch_error=str(exc)[:300])
            log.warning("receipt_fetch_failed", receipt=receipt.expensico_id, error=str(exc))
            continue
        digest = hashlib.sha256(content).hexdigest()
        if digest != receipt.sha256:
            counts["mismatch"] += 1
            Receipt.objects.filter(pk=receipt.pk).update(
                fetch_error=f"sha256 mismatch: got {digest}", fetched_at=timezone.now())
            continue
        receipt.file.save(storage_name(receipt), ContentFile(content), save=False)
        stored = Receipt.objects.filter(pk=receipt.pk).update(
            file=receipt.file.name, fetched_at=timezone.now(), verified=True, fetch_error="")
        if not stored:
            # A newer version of the expense replaced its receipts while this one downloaded (the demo's
            # start-up does it): the row is gone, so is the file; nothing to report as failed.
            receipt.file.delete(save=False)
            continue
        counts["verified"] += 1
    return counts
