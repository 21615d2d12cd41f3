"""The call log: one row per request a connection sends (redacted bodies), naming the documents
it carried; and, read back from it, when a document's idempotency key was first sent."""

import logging
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db.models import Q

from .bodies import redact
from .errors import ConnectorError
from .models import CallLog, CallLogDocument

log = logging.getLogger(__name__)


def first_sent_many(*, connection_id: int, keys: Sequence[str]) -> dict[str, datetime]:
    """Key → when a call carrying it (alone or among many, CallLogDocument) was first logged on
    this connection; keys never sent are absent. One statement."""
    keys = [k for k in keys if k]
    if not keys:
        return {}
    rows = (CallLog.objects.filter(Q(idempotency_key__in=keys) | Q(documents__idempotency_key__in=keys),
                                   connection_id=connection_id)
            .values_list("idempotency_key", "documents__idempotency_key", "created_at"))
    wanted = set(keys)
    first: dict[str, datetime] = {}
    for own, carried, at in rows:
        for key in (own, carried):
            if key in wanted and (key not in first or at < first[key]):
                first[key] = at
    return first


def call_log_write(*, connection_id: int, method: str, path: str, params: Any, status: int | None,
                   started: float, request_id: str, key: str, error: ConnectorError | None, attempt: int,
                   req_body: Any, resp_body: Any, document_keys: Sequence[str] = ()) -> None:
    """`started`: time.monotonic() as the request left. Never raises: a failed log write must
    never turn a booked document into an error."""
    full = path if path.startswith("/") or path.startswith("http") else "/" + path
    if params:
        full += "?" + "&".join(f"{k}={v}" for k, v in params.items())
    try:
        row = CallLog.objects.create(
            connection_id=connection_id, method=method, path=full[:500], status=status,
            duration_ms=int((time.monotonic() - started) * 1000),
            request_id=request_id[:200], idempotency_key=key[:200],
            error_class=type(error).__name__ if error else "",
            error_detail=(error.message if error else "")[:500], attempt=attempt,
            request_body=redact(req_body), response_body=redact(resp_body))
        if document_keys:
            CallLogDocument.objects.bulk_create(
                [CallLogDocument(call=row, idempotency_key=k[:200]) for k in document_keys])
    except Exception:  # a failed log write must never turn a booked document into an error
        log.exception("call log write failed")
