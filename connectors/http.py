"""The one outbound HTTP stack every vendor client is built on (STACK-NOTES §2).

Per request: circuit breaker check → shared rate limiter → `requests` with explicit timeouts →
error translation into the taxonomy → call log row. Retries (stamina) wrap the whole thing, but
only for idempotent requests: reads, PUT/DELETE, and writes that carry an idempotency key the
vendor deduplicates on. A `Retry-After` the vendor sends overrides the exponential backoff.
Nothing is sent inside `transaction.atomic` (connectors/atomic_guard.py).
"""

import json
import logging
import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import requests
import stamina
from django.db.models import F, Q
from django.utils import timezone
from requests.adapters import HTTPAdapter

from .atomic_guard import outside_atomic_check
from .errors import AuthExpired, ConnectorError, OutcomeUnknown, Permanent, RateLimited, Transient
from .hosts import credential_url_check
from .limits import ClientRateLimited, breaker_and_window_take, rate_limit_acquire, window_taken
from .models import CallLog, CallLogDocument, Connection
from .vendor_settings import VendorSettings

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 5
READ_TIMEOUT = 60
RETRY_ATTEMPTS = 4
T = TypeVar("T")
RETRY_TIMEOUT = 120    # seconds all attempts of one call may take together
# A Retry-After longer than this is not slept through inline: the export engine reschedules.
MAX_INLINE_RETRY_AFTER = 30.0
BREAKER_THRESHOLD = 5
BREAKER_COOLDOWN = timedelta(seconds=60)
DEFAULT_RATE_PER_SECOND = 8
BODY_LIMIT = 2000
IDEMPOTENT_METHODS = {"GET", "HEAD", "OPTIONS", "PUT", "DELETE"}
_SECRET_KEYS = re.compile(r"(token|secret|password|api[_-]?key|authorization|code_verifier|^code$)", re.I)


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: Any               # parsed JSON, or text, or None for 204
    request_id: str = ""
    calls: int = 1
    extra: dict[str, Any] = field(default_factory=dict)

    def header(self, name: str, default: str = "") -> str:
        for key, value in self.headers.items():
            if key.lower() == name.lower():
                return str(value)
        return default


# ----------------------------------------------------------------------------- JSON

_DEC = "\u0000dec:"


def dumps_exact(payload: Any) -> bytes:
    """JSON with Decimal written as a JSON number digit for digit: money never passes through
    float on its way to the vendor."""
    def mark(obj: Any) -> Any:
        if isinstance(obj, Decimal):
            return _DEC + format(obj, "f")
        if isinstance(obj, dict):
            return {k: mark(v) for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            return [mark(v) for v in obj]
        return obj

    text = json.dumps(mark(payload), ensure_ascii=False)
    return re.sub(r'"\\u0000dec:(-?[0-9.]+)"', r"\1", text).encode()


# ----------------------------------------------------------------------------- redaction

def redact(value: Any, limit: int = BODY_LIMIT) -> str:
    """JSON-ish bodies with secret-looking keys masked, truncated for the call log."""
    def scrub(obj: Any) -> Any:
        if isinstance(obj, dict):
            return {k: ("***" if _SECRET_KEYS.search(str(k)) else scrub(v)) for k, v in obj.items()}
        if isinstance(obj, list):
            return [scrub(v) for v in obj]
        return obj

    if value is None or value == b"" or value == "":
        return ""
    if isinstance(value, bytes):
        try:
            value = json.loads(value)
        except ValueError:
            return f"<{len(value)} bytes>"
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return str(value[:limit])
    text = json.dumps(scrub(value), ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ----------------------------------------------------------------------------- breaker

class CircuitOpen(Transient):
    """The breaker is open: no request was sent. Not retried inline; the caller reschedules."""

    def __init__(self, message: str, *, retry_after: float):
        super().__init__(message)
        self.retry_after = retry_after


def breaker_check(connection: Connection) -> None:
    """Raises CircuitOpen while the breaker is open. Also refreshes the connection's breaker
    fields in memory, which `breaker_record_success` relies on."""
    paused_until, failures = (Connection.objects.filter(pk=connection.pk)
                              .values_list("paused_until", "consecutive_failures").first() or (None, 0))
    _breaker_apply(connection, paused_until, failures, timezone.now())


def _breaker_apply(connection: Connection, paused_until: datetime | None, failures: int, now: datetime) -> None:
    """Keeps the breaker's state on the connection in memory; raises CircuitOpen while it is open."""
    connection.paused_until, connection.consecutive_failures = paused_until, failures
    if paused_until and paused_until > now:
        raise CircuitOpen(f"circuit open for {connection} until {paused_until:%H:%M:%S}",
                          retry_after=(paused_until - now).total_seconds())


def breaker_check_and_acquire(connection: Connection, *, per_second: int) -> None:
    """`breaker_check`, then a slot of the shared rate window (`rate_limit_acquire`): on PostgreSQL
    the breaker read and the first try at the window are one statement
    (`limits.breaker_and_window_take`); a worker that finds the window full sleeps until the next
    one opens before it tries again. An open breaker raises CircuitOpen and takes no slot."""
    now = timezone.now()
    window = int(time.time())
    row = breaker_and_window_take(connection.pk, window, per_second, now)
    if row is None:
        breaker_check(connection)
        rate_limit_acquire(connection, per_second=per_second)
        return
    paused_until, failures, count = row
    _breaker_apply(connection, paused_until, failures, now)
    if count is None:
        rate_limit_acquire(connection, per_second=per_second, full=window)
    else:
        window_taken(connection.pk, window, count)


def breaker_record_failure(connection: Connection) -> None:
    Connection.objects.filter(pk=connection.pk).update(consecutive_failures=F("consecutive_failures") + 1)
    failures = Connection.objects.filter(pk=connection.pk).values_list("consecutive_failures", flat=True).first()
    connection.consecutive_failures = failures or 0
    if failures and failures >= BREAKER_THRESHOLD:
        # Each further failure after the threshold (a half-open probe that failed) re-opens it.
        Connection.objects.filter(pk=connection.pk).update(paused_until=timezone.now() + BREAKER_COOLDOWN)


def breaker_record_success(connection: Connection) -> None:
    """Closes the breaker. Skipped (no statement) when `breaker_check` just read it clean, the
    common case: a failure another worker records in between then stays counted, which can only
    open the breaker sooner, never later."""
    if connection.consecutive_failures == 0 and connection.paused_until is None:
        return
    Connection.objects.filter(pk=connection.pk).exclude(consecutive_failures=0, paused_until=None).update(
        consecutive_failures=0, paused_until=None)
    connection.consecutive_failures, connection.paused_until = 0, None


def breaker_reset(*, connection: Connection) -> None:
    Connection.objects.filter(pk=connection.pk).update(consecutive_failures=0, paused_until=None)
    connection.consecutive_failures, connection.paused_until = 0, None


# ----------------------------------------------------------------------------- host guard

class HostGuard(HTTPAdapter):
    """Checks the host of every request a connector's session sends, as it leaves: redirects,
    msal's discovery and token calls and Authlib's token posts included, which no check on the
    stored URL alone would see (a discovery document or a 307 can name any host)."""

    def __init__(self, system: str):
        super().__init__()
        self.system = system

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        credential_url_check(system=self.system, url=request.url or "")
        outside_atomic_check(what=f"{request.method} {request.url}")
        return super().send(request, *args, **kwargs)


def session_guard(session: requests.Session, *, system: str) -> requests.Session:
    guard = HostGuard(system)
    session.mount("https://", guard)
    session.mount("http://", guard)
    return session


# ----------------------------------------------------------------------------- the stack

def parse_retry_after(value: str) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        from email.utils import parsedate_to_datetime
        try:
            return max(0.0, (parsedate_to_datetime(value) - timezone.now()).total_seconds())
        except (TypeError, ValueError):
            return None


def retry_hook(exc: Exception) -> bool | float:
    if isinstance(exc, RateLimited):
        if exc.retry_after is None:
            return True
        if exc.retry_after > MAX_INLINE_RETRY_AFTER:
            return False
        return exc.retry_after
    if isinstance(exc, CircuitOpen):
        return False
    return isinstance(exc, (Transient, OutcomeUnknown))


class HttpStack:
    """Subclass per vendor: set `auth_headers()`, `parse_error()`, `request_id_header`."""

    request_id_header = "X-Request-Id"
    idempotency_header = "Idempotency-Key"

    def __init__(self, connection: Connection, *, session: requests.Session | None = None):
        self.connection = connection
        self.session = session_guard(session or requests.Session(), system=connection.system)
        self.base_url = connection.base_url.rstrip("/")
        self.calls = 0
        self.document_keys: tuple[str, ...] = ()    # see `carrying`
        # The connection's read timeout, read once here for every vendor's client.
        self.timeout = (CONNECT_TIMEOUT, VendorSettings.of(connection).read_timeout or READ_TIMEOUT)

    # Vendor hooks -----------------------------------------------------------------------
    def auth_headers(self) -> dict[str, str]:
        return {}

    def refresh_auth(self) -> bool:
        """Called once on a 401; returns True when new credentials are worth a second try."""
        return False

    def before_send(self) -> None:
        """Last hook before a request leaves, after the shared limiter (e.g. a vendor's burst
        slot, which must be taken as close to sending as possible)."""

    def parse_error(self, status: int, body: Any) -> tuple[str, str | None, str]:
        """(code, field, detail) from a vendor error body."""
        return (f"http_{status}", None, str(body)[:300])

    # Public API -------------------------------------------------------------------------
    def request(self, method: str, path: str, *, params: Any = None, json_body: Any = None, files: Any = None,
                data: Any = None, headers: dict[str, str] | None = None, idempotency_key: str = "",
                timeout: tuple[float, float] | None = None) -> Response:
        method = method.upper()
        timeout = timeout or self.timeout
        retryable = method in IDEMPOTENT_METHODS or bool(idempotency_key)
        attempt = {"n": 0, "maybe_sent": False}

        def once() -> Response:
            attempt["n"] += 1
            try:
                return self.send(method, path, params=params, json_body=json_body, files=files, data=data,
                                 headers=headers, idempotency_key=idempotency_key, timeout=timeout,
                                 attempt=attempt["n"])
            except OutcomeUnknown:
                attempt["maybe_sent"] = True
                raise

        if not retryable:
            return once()
        try:
            return self.retrying(once)
        except (Transient, RateLimited) as exc:
            # A later 5xx/429/open breaker does not undo an earlier attempt that may have reached the
            # vendor: the caller must still look the document up before anything is re-sent.
            # (A Permanent answer is the vendor's word and stays as it is: connectors interpret it.)
            if attempt["maybe_sent"]:
                raise OutcomeUnknown(f"an earlier attempt may have reached the vendor; then: {exc}") from exc
            raise

    def send(self, method: str, path: str, *, params: Any = None, json_body: Any = None, files: Any = None,
             data: Any = None, headers: dict[str, str] | None = None, idempotency_key: str = "",
             timeout: tuple[float, float] | None = None, attempt: int = 1) -> Response:
        """One attempt and no retry: host check, atomic guard, breaker, limiter, call log, error
        translation. For a client whose retry decisions differ from `request`'s; wrap it in `retrying`."""
        return self._send(method.upper(), path, params=params, json_body=json_body, files=files, data=data,
                          headers=headers, idempotency_key=idempotency_key, timeout=timeout or self.timeout,
                          attempt=attempt)

    @staticmethod
    def retrying(once: Callable[[], T], *, on: Callable[[Exception], bool | float] = retry_hook) -> T:
        """Calls `once` under the stack's retry policy (attempts, time cap, waits with jitter,
        `Retry-After` when `on` returns a number), re-trying what `on` accepts."""
        return stamina.retry(on=on, attempts=RETRY_ATTEMPTS, timeout=RETRY_TIMEOUT)(once)()

    def first_sent(self, idempotency_key: str) -> datetime | None:
        """When a call carrying this key was first logged on this connection (any answer, or none
        yet), or None: vendors without idempotency keys look a document up before re-sending it."""
        return self.first_sent_many([idempotency_key]).get(idempotency_key) if idempotency_key else None

    def first_sent_many(self, keys: Sequence[str]) -> dict[str, datetime]:
        """`first_sent` for many keys in one statement, whether a call carried the key alone or
        among many (CallLogDocument): key → when it was first sent; keys never sent are absent."""
        keys = [k for k in keys if k]
        if not keys:
            return {}
        rows = (CallLog.objects.filter(Q(idempotency_key__in=keys) | Q(documents__idempotency_key__in=keys),
                                       connection_id=self.connection.pk)
                .values_list("idempotency_key", "documents__idempotency_key", "created_at"))
        wanted = set(keys)
        first: dict[str, datetime] = {}
        for own, carried, at in rows:
            for key in (own, carried):
                if key in wanted and (key not in first or at < first[key]):
                    first[key] = at
        return first

    @contextmanager
    def carrying(self, keys: Sequence[str]) -> Iterator[None]:
        """Calls sent inside carry these documents (push many): each call's log row names them all."""
        self.document_keys = tuple(keys)
        try:
            yield
        finally:
            self.document_keys = ()

    def get_json(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, params=params or None).body

    # Internals --------------------------------------------------------------------------
    def _url(self, path: str) -> str:
        return path if path.startswith("http") else f"{self.base_url}/{path.lstrip('/')}"

    def _send(self, method: str, path: str, *, params: Any, json_body: Any, files: Any, data: Any,
              headers: dict[str, str] | None, idempotency_key: str, timeout: tuple[float, float] | None,
              attempt: int) -> Response:
        conn = self.connection
        # Before anything else, token refreshes included: a credential never leaves for a foreign host.
        credential_url_check(system=conn.system, url=self._url(path))
        # Before the breaker, the limiter and the call log: a refused call leaves no trace but the error.
        outside_atomic_check(what=f"{method} {self._url(path)}")
        per_second = VendorSettings.of(conn).rate_limit_per_second or DEFAULT_RATE_PER_SECOND
        breaker_check_and_acquire(conn, per_second=per_second)
        self.before_send()
        all_headers = {"Accept": "application/json", **self.auth_headers(), **(headers or {})}
        if idempotency_key:
            all_headers[self.idempotency_header] = idempotency_key
        wire = data
        if json_body is not None:
            wire = dumps_exact(json_body)
            all_headers["Content-Type"] = "application/json"
        started = time.monotonic()
        status, body, resp_headers, error = None, None, {}, None
        try:
            auth = all_headers.get("Authorization")
            if auth is not None and (not auth.strip() or auth.endswith(" ")):
                # A scheme without a credential (the secret was cleared or never entered).
                raise AuthExpired("no credential is stored for this connection: enter it again")
            try:
                raw = self.session.request(method, self._url(path), params=params, files=files, data=wire, headers=all_headers, timeout=timeout)
            except requests.ConnectTimeout as exc:
                raise Transient(f"connect timeout: {exc}") from exc
            except requests.ReadTimeout as exc:
                if method in IDEMPOTENT_METHODS and method != "DELETE":
                    raise Transient(f"read timeout: {exc}") from exc
                raise OutcomeUnknown(f"read timeout after sending {method} {path}") from exc
            except requests.ConnectionError as exc:
                if _never_sent(exc) or method == "GET":
                    raise Transient(f"connection failed: {exc}") from exc
                raise OutcomeUnknown(f"connection lost after sending {method} {path}: {exc}") from exc
            self.calls += 1
            status, resp_headers = raw.status_code, dict(raw.headers)
            body = _parse(raw)
            request_id = raw.headers.get(self.request_id_header, "")
            if status == 401 and attempt == 1 and self.refresh_auth():
                # Fresh credentials: one immediate second try, outside the retry budget.
                return self._send(method, path, params=params, json_body=json_body, files=files, data=data,
                                  headers=headers, idempotency_key=idempotency_key, timeout=timeout,
                                  attempt=attempt + 1)
            if status >= 400:
                raise self._translate(status, body, raw.headers, request_id)
            breaker_record_success(conn)
            return Response(status=status, headers=resp_headers, body=body, request_id=request_id)
        except ConnectorError as exc:
            error = exc
            # Throttling is the vendor working as designed; only real failures trip the breaker.
            if isinstance(exc, (Transient, OutcomeUnknown)) and not isinstance(exc, (RateLimited, CircuitOpen)):
                breaker_record_failure(conn)
            if isinstance(exc, AuthExpired):
                mark_expired(conn, exc.message)
            raise
        finally:
            if not isinstance(error, (CircuitOpen, ClientRateLimited)):
                self._log(method, path, params, status, started, resp_headers, idempotency_key, error, attempt,
                          json_body if json_body is not None else (data if files is None else {"file": "<upload>"}),
                          body)

    def _translate(self, status: int, body: Any, headers: Any, request_id: str) -> ConnectorError:
        code, fld, detail = self.parse_error(status, body)
        if status == 401:
            return AuthExpired(detail or "credentials rejected", request_id=request_id, status=status)
        if status == 429:
            return RateLimited(detail or "rate limited", retry_after=parse_retry_after(headers.get("Retry-After", "")),
                               request_id=request_id, status=status)
        if status >= 500 or status == 408:
            return Transient(detail or f"vendor error {status}", request_id=request_id, status=status)
        return Permanent(detail or f"vendor rejected the request ({status})", code=code, field=fld,
                         request_id=request_id, status=status)

    def _log(self, method: str, path: str, params: Any, status: int | None, started: float, resp_headers: Any,
             key: str, error: ConnectorError | None, attempt: int, req_body: Any, resp_body: Any) -> None:
        full = path if path.startswith("/") or path.startswith("http") else "/" + path
        if params:
            full += "?" + "&".join(f"{k}={v}" for k, v in params.items())
        try:
            row = CallLog.objects.create(
                connection_id=self.connection.pk, method=method, path=full[:500], status=status,
                duration_ms=int((time.monotonic() - started) * 1000),
                request_id=(resp_headers.get(self.request_id_header) or "")[:200], idempotency_key=key[:200],
                error_class=type(error).__name__ if error else "",
                error_detail=(error.message if error else "")[:500], attempt=attempt,
                request_body=redact(req_body), response_body=redact(resp_body))
            if self.document_keys:
                CallLogDocument.objects.bulk_create(
                    [CallLogDocument(call=row, idempotency_key=k[:200]) for k in self.document_keys])
        except Exception:  # a failed log write must never turn a booked document into an error
            log.exception("call log write failed")


def _parse(raw: requests.Response) -> Any:
    if raw.status_code == 204 or not raw.content:
        return None
    try:
        # Vendors send money as JSON numbers: read them as Decimal, never through float.
        return json.loads(raw.content, parse_float=Decimal)
    except ValueError:
        return raw.text


def _never_sent(exc: requests.ConnectionError) -> bool:
    text = str(exc)
    return any(s in text for s in ("Connection refused", "Failed to establish", "Name or service not known",
                                    "NewConnectionError"))


def mark_expired(connection: Connection, detail: str) -> None:
    Connection.objects.filter(pk=connection.pk).update(status=Connection.Status.EXPIRED,
                                                       last_check_ok=False, last_check_detail=detail[:500])
    connection.status = Connection.Status.EXPIRED
