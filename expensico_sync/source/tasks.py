"""django-q2 tasks: thin wrappers around services."""

import structlog

from .models import PullSync
from .pull import pull_sync_run
from .receipts import receipts_fetch as _receipts_fetch

log = structlog.get_logger(__name__)


def receipts_fetch(receipt_ids: list[int]) -> dict:
    return _receipts_fetch(receipt_ids=receipt_ids)


def pull_sync(pull_sync_id: int) -> str:
    run = pull_sync_run(pull_sync=PullSync.objects.get(pk=pull_sync_id))
    return run.status
