"""The one outbound HTTP stack every vendor client is built on (STACK-NOTES §2).

Per request: circuit breaker check → shared rate limiter → `requests` with explicit timeouts →
error translation into the taxonomy → call log row. Retries (stamina) wrap the whole thing, but
only for idempotent requests: reads, PUT/DELETE, and writes that carry an idempotency key the
vendor deduplicates on. A `Retry-After` the vendor sends overrides the exponential backoff.
Nothing is sent inside `transaction.atomic` (connectors/atomic_guard.py). The breaker is in
connectors/breaker.py, body encoding and redaction in connectors/bodies.py, the call log in
connectors/call_log.py.
"""

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import requests
import stamina
from django.utils import timezone
from requests.adapters import HTTPAdapter

from .atomic_guard import outside_atomic_check
from .bodies import dumps_exact, parse_body
from .breaker import CircuitOpen, breaker_check_and_acquire, breaker_record_failure, breaker_record_success
from .call_log import call_log_write, first_sent_many
from .errors import AuthExpired, ConnectorError, OutcomeUnknown, Permanent, RateLimited, Transient
from .hosts import credential_url_check
from .limits import ClientRateLimited
from .models import Connection
from .vendor_settings import VendorSettings

CONNECT_TIMEOUT = 5
READ_TIMEOUT = 60
RETRY_ATTEMPTS = 4
T = TypeVar("T")
RETRY_TIMEOUT = 120    # seconds all attempts of one call may take together
# A Retry-After longer than this is not slept through inline: the export engine reschedules.
MAX_INLINE_RETRY_AFTER = 30.0
DEFAULT_RATE_PER_SECOND = 8
IDEMPOTENT_METHODS = {"GET", "HEAD", "OPTIONS", "PUT", "DELETE"}


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
        return first_sent_many(connection_id=self.connection.pk, keys=keys)

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
            body = parse_body(raw)
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
        call_log_write(connection_id=self.connection.pk, method=method, path=path, params=params, status=status,
                       started=started, request_id=resp_headers.get(self.request_id_header) or "", key=key,
                       error=error, attempt=attempt, req_body=req_body, resp_body=resp_body,
                       document_keys=self.document_keys)


def _never_sent(exc: requests.ConnectionError) -> bool:
    text = str(exc)
    return any(s in text for s in ("Connection refused", "Failed to establish", "Name or service not known",
                                    "NewConnectionError"))


def mark_expired(connection: Connection, detail: str) -> None:
    Connection.objects.filter(pk=connection.pk).update(status=Connection.Status.EXPIRED,
                                                       last_check_ok=False, last_check_detail=detail[:500])
    connection.status = Connection.Status.EXPIRED
