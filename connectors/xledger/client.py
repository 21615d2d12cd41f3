"""Xledger's GraphQL client on the shared HTTP stack.

Xledger answers application errors with HTTP 200 and `errors[]`; this client turns them into
the taxonomy (`BURST_RATE_LIMIT_REACHED` → RateLimited(5 s), `CONCURRENCY_LIMIT_REACHED` →
RateLimited(1 s), `INSUFFICIENT_CREDITS` → RateLimited until `resetAt`, a bad token →
AuthExpired, INVALID_VALUE and validation → Permanent naming the field).

Every request is billed beyond 5,000 a month, so: the burst limit (20 requests / 5 s) is kept
on our side before anything is sent, queries are retried but a mutation whose answer was lost
never is (the connector looks the reference up first), and `requests_this_month` counts what
the call log holds for the connection.

A mutation may have been applied when its answer is a 5xx or 408, a "timed out" error, or both
`data` and `errors` (partial, C7): each is OutcomeUnknown, never re-sent blindly. Xledger has no
idempotency key, so only a look-up by `extIdentifier` can tell.
"""

from datetime import datetime

from django.utils import timezone

from ..errors import (
    AuthExpired,
    ConnectorError,
    OutcomeUnknown,
    PeriodClosed,
    Permanent,
    RateLimited,
    Transient,
)
from ..http import (
    HttpStack,
    mark_expired,
    retry_hook,
)
from ..limits import window_slot_acquire
from ..models import Connection
from .settings import XledgerSettings

BURST_REQUESTS = 20
BURST_SECONDS = 5.0
BURST_MARGIN = 0.25          # our send time vs. Xledger's arrival time
BURST_WAIT = 6.0
MAX_PAGES = 100
CREDITS_WAIT = 20 * 60.0     # the official sample waits 20 minutes when no `resetAt` is given


def _write_hook(exc: Exception) -> bool | float:
    if isinstance(exc, OutcomeUnknown):
        return False
    return retry_hook(exc)


class XledgerClient(HttpStack):
    idempotency_header = "X-Expensico-Idempotency-Key"   # Xledger ignores it; it ties the call log to the record

    def __init__(self, connection: Connection, **kw):
        super().__init__(connection, **kw)
        self.writing = False     # a mutation is on the wire: its failures may have been applied

    def auth_headers(self) -> dict:
        return {"Authorization": f"token {self.connection.api_key}"}

    def parse_error(self, status: int, body) -> tuple[str, str | None, str]:
        errors = body.get("errors") if isinstance(body, dict) else None
        if errors:
            first = errors[0]
            ext = first.get("extensions") or {}
            return first.get("code") or ext.get("code") or f"http_{status}", ext.get("field"), first.get("message", "")
        return f"http_{status}", None, str(body or "")[:300]

    def _log(self, method, path, params, status, started, resp_headers, key, error, attempt, req_body, resp_body):
        # An HTTP 200 carrying `errors[]` is a failed call: the call log says which error it was.
        if error is None and isinstance(resp_body, dict) and resp_body.get("errors"):
            error = self.answer_error(resp_body, mutation=self.writing)
        super()._log(method, path, params, status, started, resp_headers, key, error, attempt, req_body, resp_body)

    def _translate(self, status: int, body, headers, request_id: str) -> ConnectorError:
        error = super()._translate(status, body, headers, request_id)
        if self.writing and type(error) is Transient:   # 5xx/408, not 429: the server may have run it
            return OutcomeUnknown(f"{error.message} (HTTP {status} to a mutation: it may have been applied)",
                                  request_id=request_id, status=status)
        return error

    def before_send(self) -> None:
        """Xledger's burst limit, shared by every worker: a slot is taken just before the request
        leaves (requests in flight count), with a small margin for the vendor counting arrivals."""
        limit = XledgerSettings.of(self.connection).burst_limit or BURST_REQUESTS
        window_slot_acquire(self.connection, limit=limit, seconds=BURST_SECONDS + BURST_MARGIN, wait_max=BURST_WAIT)

    def graphql(self, query: str, variables: dict | None = None, *, mutation: bool = False,
                idempotency_key: str = "") -> dict:
        attempt = {"n": 0}

        def once():
            attempt["n"] += 1
            resp = self.send("POST", "/graphql", json_body={"query": query, "variables": variables or {}},
                             idempotency_key=idempotency_key, attempt=attempt["n"])
            body = resp.body if isinstance(resp.body, dict) else {}
            if body.get("errors"):
                error = self.answer_error(body, mutation=mutation)
                if isinstance(error, AuthExpired):
                    mark_expired(self.connection, error.message)
                raise error
            return body.get("data") or {}

        hook = _write_hook if mutation else retry_hook
        self.writing = mutation
        try:
            return self.retrying(once, on=hook)
        finally:
            self.writing = False

    def mutate_many(self, query: str, variables: dict, *, keys: list[str]) -> tuple[dict, list[dict]]:
        """A mutation carrying many documents (`keys`, one per document, linked in the call log):
        (data, errors). A partial answer (data and errors, C7) is returned, not raised: its edges'
        `clientId`s say which inputs were applied. A refusal of the whole call raises as `graphql`
        does, as a `Refusal` keeping the vendor's `errors[]` (which input it names)."""
        attempt = {"n": 0}

        def once() -> tuple[dict, list[dict]]:
            attempt["n"] += 1
            resp = self.send("POST", "/graphql", json_body={"query": query, "variables": variables},
                             attempt=attempt["n"])
            body = resp.body if isinstance(resp.body, dict) else {}
            errors = body.get("errors") or []
            if not errors:
                return body.get("data") or {}, []
            error = self.answer_error(body, mutation=True)
            if isinstance(error, OutcomeUnknown) and any(v is not None for v in (body.get("data") or {}).values()):
                return body["data"], errors
            if isinstance(error, AuthExpired):
                mark_expired(self.connection, error.message)
            if isinstance(error, Permanent):
                raise Refusal(error, errors)
            raise error

        self.writing = True
        try:
            with self.carrying(keys):
                return self.retrying(once, on=_write_hook)
        finally:
            self.writing = False

    def answer_error(self, body: dict, *, mutation: bool) -> ConnectorError:
        """The taxonomy error for an answer carrying `errors[]`. Throttling and auth errors come
        before anything runs; for a mutation, a timeout or a partial answer may have applied it."""
        error = self.classify(body["errors"])
        if not mutation or isinstance(error, (RateLimited, AuthExpired)):
            return error
        if isinstance(error, Transient):
            return OutcomeUnknown(f"the mutation timed out and may have been applied: {error.message}", status=200)
        data = body.get("data")
        if isinstance(data, dict) and any(value is not None for value in data.values()):
            return OutcomeUnknown(f"partial answer (data and errors), some inputs may have been applied: "
                                  f"{error.message}", status=200)
        return error

    def classify(self, errors: list[dict]) -> ConnectorError:
        """The taxonomy error for a GraphQL `errors[]` (no side effects)."""
        first = errors[0]
        ext = first.get("extensions") or {}
        code = first.get("code") or ext.get("code") or ""
        message = "; ".join(e.get("message", "") for e in errors)[:500]
        if code.endswith("BURST_RATE_LIMIT_REACHED"):
            return RateLimited(message, retry_after=5.0, status=200)
        if code.endswith("CONCURRENCY_LIMIT_REACHED"):
            return RateLimited(message, retry_after=1.0, status=200)
        if code.endswith("INSUFFICIENT_CREDITS"):
            return RateLimited(message, retry_after=_seconds_until(ext.get("resetAt")), status=200)
        if "Bad format for API token" in message or code in ("UNAUTHORIZED", "UNAUTHENTICATED"):
            return AuthExpired(message, status=200)
        if "timed out" in message.lower():
            return Transient(message, status=200)
        if code.endswith("PERIOD_CLOSED"):
            return PeriodClosed(message, period_end=ext.get("closedThrough"), status=200)
        field = ext.get("field")
        if not field and ext.get("argumentPath"):
            field = str(ext["argumentPath"][-1])
        return Permanent(message, code=code or "invalid", field=field, status=200)

    def paged(self, query: str, root: str, **variables) -> list[dict]:
        """Relay paging: follow the last edge's cursor while `hasNextPage`."""
        out: list[dict] = []
        after = None
        for _ in range(MAX_PAGES):
            data = self.graphql(query, {**variables, "after": after})[root]
            out.extend(edge["node"] for edge in data["edges"])
            if not data["pageInfo"]["hasNextPage"] or not data["edges"]:
                return out
            after = data["edges"][-1]["cursor"]
        raise Permanent(f"{root}: Xledger has more than {MAX_PAGES} pages for this query", code="too_many_pages")


class Refusal(Permanent):
    """Xledger refused a whole mutation (nothing applied): `cause` is the taxonomy error of its
    answer, `errors` the answer's `errors[]`."""

    def __init__(self, cause: Permanent, errors: list[dict]):
        super().__init__(cause.message, code=cause.code, field=cause.field, status=cause.status)
        self.cause = cause
        self.errors = errors

    def input_index(self) -> int | None:
        """The refused input's position in `inputs`, where the answer says (`argumentPath`)."""
        for error in self.errors:
            path = (error.get("extensions") or {}).get("argumentPath") or []
            if len(path) > 1 and path[0] == "inputs" and isinstance(path[1], int):
                return path[1]
        return None


def _seconds_until(reset_at: str | None) -> float:
    if not reset_at:
        return CREDITS_WAIT
    try:
        moment = datetime.fromisoformat(reset_at.replace("Z", "+00:00"))
    except ValueError:
        return CREDITS_WAIT
    return max(1.0, (moment - timezone.now()).total_seconds())
