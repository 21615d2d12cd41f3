"""Moon ERP's HTTP client on the shared stack: Bearer token, Laravel error bodies, `links.next`
pagination, and the one retry policy Moon needs for its POSTs.

Moon has no idempotency key, so the stack never retries a POST by itself. `post` retries only
what provably did not take effect (5xx, 429 honouring Retry-After, connection refused); an
outcome-unknown POST is resolved by the connector with a lookup before anything is re-sent.

The call log is this connector's memory across processes: a keyed POST is logged as in flight
before it leaves (so a worker killed mid-call still leaves "look it up first" behind), and the
logged create bodies say which day an expense was booked on (so a lookup lists one day).
"""

import logging
import re
from collections.abc import Iterable

from django.db import DatabaseError
from django.db.models import Q

from ..bodies import redact
from ..errors import ConnectorError, OutcomeUnknown, PeriodClosed, Permanent, Transient
from ..http import HttpStack, Response, retry_hook
from ..models import CallLog, Connection
from . import schema

log = logging.getLogger(__name__)

MAX_PAGES = 400
PER_PAGE = 25
STATE_FIELDS = {"status"}           # 422s about the document's state, not its content
# Moon's inferred 60 requests/minute. The shared stack's default (8/s) would meet Moon's 429s
# within seconds, and the budget is per connection, shared by every worker process.
RATE_PER_SECOND = 1
IN_FLIGHT = "in flight: no answer recorded (only a worker that died mid-call leaves this row behind)"
# Only an unescaped key matches: a quote inside a JSON string value is always written \".
_DATE = re.compile(r'"date": "(\d{4}-\d{2}-\d{2})"')
# The sandbox's documented answer to a posting into a locked period (sandbox/store.py).
_CLOSED = re.compile(r"closed accounting period(?: \(closed through (\d{4}-\d{2}-\d{2})\))?", re.IGNORECASE)


def with_moon_defaults(settings: dict) -> dict:
    """An explicit rate (a test's, or a person's) wins; absent or 0 means Moon's."""
    if settings.get("rate_limit_per_second"):  # the raw dict: this writes the default into it
        return settings
    return {**settings, "rate_limit_per_second": RATE_PER_SECOND}


def _resend_safe(exc: Exception) -> bool | float:
    if isinstance(exc, OutcomeUnknown):
        return False
    return retry_hook(exc)


class MoonClient(HttpStack):
    request_id_header = "X-Request-Id"
    idempotency_header = "X-Expensico-Idempotency-Key"   # Moon ignores it; it ties the call log to the record

    def __init__(self, connection: Connection, **kw):
        super().__init__(connection, **kw)
        # The stack reads the rate from the settings; a connection set up before Moon had its
        # own default (or never checked) would otherwise run at the stack's 8/s.
        connection.settings = with_moon_defaults(connection.settings)

    def auth_headers(self) -> dict:
        return {"Authorization": f"Bearer {self.connection.api_key}"}

    def parse_error(self, status: int, body) -> tuple[str, str | None, str]:
        # Laravel: {"message": "...", "errors": {"field": ["..."]}} (422); {"message"} otherwise.
        if not isinstance(body, dict):
            return f"http_{status}", None, str(body or "")[:300]
        if status == 422 and isinstance(body.get("errors"), dict) and body["errors"]:
            field, messages = next(iter(body["errors"].items()))
            detail = "; ".join(f"{f}: {' '.join(m)}" for f, m in body["errors"].items())
            return _code(field, messages), field, detail[:500]
        code = {403: "permission_denied", 404: "not_found"}.get(status, f"http_{status}")
        return code, None, str(body.get("message") or "")[:300]

    def _translate(self, status: int, body, headers, request_id: str) -> ConnectorError:
        error = super()._translate(status, body, headers, request_id)
        closed = _CLOSED.search(error.message) if isinstance(error, Permanent) and error.field == "date" else None
        if closed is None:
            return error
        return PeriodClosed(error.message, period_end=closed.group(1), request_id=request_id, status=status)

    def call(self, method: str, path: str, **kw) -> Response:
        return self.request(method, path, timeout=self.timeout, **kw)

    def post(self, path: str, payload: dict | None = None, *, key: str = "") -> Response:
        """`key` (our idempotency key) is not Moon's: it only ties the call log to the record, so
        a later attempt knows this record already wrote to Moon and looks it up first. The stack's
        keyed-retry is therefore bypassed: a lost answer is never re-sent blind.

        The stack logs a call once its answer (or its loss) is known; a keyed POST is also logged
        as in flight before it leaves, and that row is dropped once the ordinary one exists. Only a
        worker that dies mid-call keeps it, which is exactly when it is needed."""
        body = payload if payload is not None else {}
        in_flight = self._in_flight(path, body, key) if key else None
        attempt = {"n": 0}

        def once():
            attempt["n"] += 1
            return self.send("POST", path, json_body=body, idempotency_key=key, attempt=attempt["n"])

        try:
            response = self.retrying(once, on=_resend_safe)
        except ConnectorError:
            self._settled(in_flight)
            raise
        # Anything else (a kill, a bug) leaves the in-flight row: the request may have reached Moon.
        self._settled(in_flight)
        return response

    def _in_flight(self, path: str, body: dict, key: str) -> int:
        try:
            return CallLog.objects.create(connection_id=self.connection.pk, method="POST", path=path[:500],
                                          idempotency_key=key[:200], error_detail=IN_FLIGHT,
                                          request_body=redact(body)).pk
        except DatabaseError as exc:
            # Unlike the answer's row this one must exist: without it a lost answer would be re-sent blind.
            raise Transient(f"POST {path} not sent: the call log is unavailable ({exc})") from exc

    def _settled(self, pk: int | None) -> None:
        if pk is None:
            return
        try:
            CallLog.objects.filter(pk=pk).delete()
        except DatabaseError:  # a stale in-flight row costs one lookup later, never a wrong answer now
            log.exception("in-flight call log row %s not removed", pk)

    def wrote_before(self, key: str) -> bool:
        """Did any earlier call carry this key (whatever its answer, or none yet)?"""
        return self.first_sent(key) is not None

    def sent_dates(self, path: str, references: Iterable[str]) -> dict[str, set[str]]:
        """reference → the dates of the expenses created for it through `path`, as the logged
        create bodies say (answered or still in flight). The date leads the body, so the call
        log's 2000-character truncation keeps it; an entry's reference is in its description,
        which comes next. A reference not here was not sent within the log's retention."""
        refs = list(dict.fromkeys(references))
        if not refs:
            return {}
        mentions = Q()
        for ref in refs:
            mentions |= Q(request_body__contains=ref)
        bodies = (CallLog.objects.filter(connection_id=self.connection.pk, method="POST", path=path)
                  .filter(mentions).values_list("request_body", flat=True))
        patterns = {ref: schema.reference_pattern(ref) for ref in refs}
        out: dict[str, set[str]] = {}
        for text in bodies:
            on = _DATE.search(text)
            if on is None:
                continue
            # `contains` is a substring (and on SQLite case-blind) match: x-v1 must not take x-v10's date.
            for ref, pattern in patterns.items():
                if pattern.search(text):
                    out.setdefault(ref, set()).add(on.group(1))
        return out

    def list_all(self, path: str, **filters) -> list[dict]:
        """Every page, following `links.next` (absolute URLs that keep the filters)."""
        return [row for page in self.pages(path, **filters) for row in page]

    def pages(self, path: str, **filters):
        """The list page by page (Moon serves 25 a page, and takes no page size)."""
        params: dict | None = {k: v for k, v in filters.items() if v not in (None, "")}
        url = path
        for _ in range(MAX_PAGES):
            body = self.call("GET", url, params=params or None).body
            yield body["data"]
            nxt = (body.get("links") or {}).get("next")
            if not nxt:
                return
            url, params = nxt, None
        # Permanent, not a bug: no retry makes the ledger shorter, so a person must look.
        raise Permanent(f"Moon ERP lists more than {MAX_PAGES} pages ({MAX_PAGES * PER_PAGE} rows) for {path}; "
                        "too many to read within its 60 requests a minute. Look it up in Moon by hand (our "
                        "reference is in each expense's notes).",
                        code="too_many_pages")


def _code(field: str, messages: list[str]) -> str:
    text = " ".join(messages).lower()
    if field in STATE_FIELDS:
        return "invalid_state"
    if "has already been taken" in text:
        return "duplicate"
    if "is required" in text:
        return "required"
    if text.startswith("the selected"):
        return "does_not_exist"
    return "invalid"
