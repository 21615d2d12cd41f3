"""Fetching receipt files into storage, outside any transaction, checked against their sha256."""

import hashlib

import requests
import structlog
from django.core.files.base import ContentFile
from django.utils import timezone

from .client import TIMEOUT, ExpensicoClient, ExpensicoError
from .models import Receipt

log = structlog.get_logger(__name__)
QUICK_TIMEOUT = (3, 20)


def _download(receipt: Receipt, *, patient: bool) -> bytes:
    org = receipt.expense.organization
    base = org.expensico_api_base_url.rstrip("/")
    if base and receipt.url.startswith(base + "/"):
        # Our own Expensico API: the org's token, and the client's retries when there is time.
        client = ExpensicoClient.for_organization(org)
        if patient:
            return client._get(receipt.url[len(base):], raw=True)
        response = client.session.get(receipt.url, timeout=QUICK_TIMEOUT)
    else:
        response = requests.get(receipt.url, timeout=TIMEOUT if patient else QUICK_TIMEOUT)
    response.raise_for_status()
    return response.content


def receipts_fetch(*, receipt_ids: list[int], patient: bool = True) -> dict:
    """`patient=False` (an export worker about to push): one try, short timeouts, so an Expensico
    outage costs a booking its receipt (flagged for a person), never a worker's minutes."""
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
        receipt.file.save(receipt.filename, ContentFile(content), save=False)
        receipt.fetched_at = timezone.now()
        receipt.verified = True
        receipt.fetch_error = ""
        receipt.save(update_fields=["file", "fetched_at", "verified", "fetch_error"])
        counts["verified"] += 1
    return counts
