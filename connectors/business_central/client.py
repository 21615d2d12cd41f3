"""Business Central's HTTP client on the shared stack: Entra tokens through msal, OData errors,
server-driven paging, `$batch`, and BC's documented limits enforced on our side.

Retries: reads, DELETEs and read-only batches retry on anything transient. Writes retry only
when the answer proves nothing was booked: 429, 502/503 with `Retry-After` (queued out, never
processed), 409 `Request_EntityChanged`, and a failed operation inside a snapshot `$batch` (BC
rolled the batch back). A write answered 408 (operation timeout), 504 (10-minute limit) or any
other 5xx without `Retry-After` may have been committed: it becomes `OutcomeUnknown`, and like a
write whose answer was lost it is never re-sent from here: the connector looks it up first.
"""

import hashlib
import re
import threading
from datetime import timedelta
from urllib.parse import urlsplit

import msal
import requests
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
from ..hosts import credential_url_check
from ..http import (
    CONNECT_TIMEOUT,
    HttpStack,
    Response,
    mark_expired,
    parse_retry_after,
    retry_hook,
    session_guard,
)
from ..limits import ClientRateLimited, concurrency_slot
from ..models import CallLog, Connection
from . import schema
from .settings import BusinessCentralSettings

SCOPE = "https://api.businesscentral.dynamics.com/.default"
AUTHORITY_HOST = "https://login.microsoftonline.com"
# Documented per service principal: 6,000 requests per 5-minute sliding window, 5 processed at once.
WINDOW = timedelta(minutes=5)
WINDOW_LIMIT = 6000
CONCURRENT = 5
CONCURRENCY_WAIT = 5.0
PAGE_SIZE = 1000
MAX_PAGES = 200
NOT_ALLOWED_DATE = "is not within your range of allowed posting dates"

# BC error messages name fields by their AL caption; we report the API property we sent.
CAPTION_FIELDS = {
    "Account No.": "accountId", "Bal. Account No.": "balancingAccountId", "Posting Date": "postingDate",
    "Document No.": "documentNumber", "External Document No.": "externalDocumentNumber",
    "Buy-from Vendor No.": "vendorId", "Pay-to Vendor No.": "vendorId", "Currency Code": "currencyCode",
    "VAT Prod. Posting Group": "taxCode", "Tax Group Code": "taxCode", "No.": "accountId",
    "Dimension Value Code": "dimensionSetLines", "Vendor Invoice No.": "vendorInvoiceNumber",
}
_FIELD_RE = re.compile(r"The field (.+?) of table")
_PROPERTY_RE = re.compile(r"property '(\w+)'", re.I)

# msal keeps its token cache inside the application object: one per tenant/client per process.
_apps: dict[tuple, msal.ConfidentialClientApplication] = {}
_apps_lock = threading.Lock()


def tenant_of(connection: Connection) -> str:
    if tenant := BusinessCentralSettings.of(connection).tenant:
        return tenant
    parts = [p for p in urlsplit(connection.base_url).path.split("/") if p]
    # …/v2.0/{tenant}/{environment}/api/v2.0
    return parts[1] if len(parts) >= 5 and parts[0] == "v2.0" else "organizations"


def _session(connection: Connection) -> requests.Session:
    session = session_guard(requests.Session(), system=connection.system)
    if ca_bundle := BusinessCentralSettings.of(connection).ca_bundle:
        # A sandbox's self-signed certificate. requests lets REQUESTS_CA_BUNDLE override a
        # session's `verify`, so the environment is not consulted for this session.
        session.verify = ca_bundle
        session.trust_env = False
    return session


def msal_app(connection: Connection) -> msal.ConfidentialClientApplication:
    settings = BusinessCentralSettings.of(connection)
    authority = f"{settings.authority_host or AUTHORITY_HOST}/{tenant_of(connection)}"
    credential_url_check(system=connection.system, url=authority, field="settings")
    key = (authority, connection.client_id, hashlib.sha256(connection.client_secret.encode()).hexdigest(),
           settings.ca_bundle)
    with _apps_lock:
        app = _apps.get(key)
        if app is None:
            try:
                app = msal.ConfidentialClientApplication(
                    connection.client_id, client_credential=connection.client_secret, authority=authority,
                    instance_discovery=False, http_client=_session(connection), timeout=(CONNECT_TIMEOUT, 30))
            except (ValueError, requests.RequestException) as exc:
                raise Transient(f"Entra discovery for {authority} failed: {exc}") from exc
            _apps[key] = app
        return app


def access_token(connection: Connection) -> str:
    try:
        result = msal_app(connection).acquire_token_for_client(scopes=[SCOPE])
    except requests.RequestException as exc:
        raise Transient(f"token endpoint unreachable: {exc}") from exc
    if "access_token" in result:
        return result["access_token"]
    detail = f"{result.get('error')}: {result.get('error_description', '')}"[:400]
    if result.get("error") in ("invalid_client", "unauthorized_client", "invalid_grant", "invalid_request"):
        mark_expired(connection, detail)
        raise AuthExpired(detail, status=401)
    raise Transient(detail)


def _write_hook(exc: Exception) -> bool | float:
    if isinstance(exc, OutcomeUnknown):
        return False
    return retry_hook(exc)


def _pinned(hook):
    """For a request pinned to an ETag: after `Request_EntityChanged` the same request can only
    fail on the stale ETag, so it is left to the caller to re-read (the engine retries the step)."""
    def pinned(exc: Exception) -> bool | float:
        return False if isinstance(exc, Transient) and exc.status == 409 else hook(exc)
    return pinned


def unknown_if_ambiguous(exc: ConnectorError, what: str) -> ConnectorError | None:
    """The OutcomeUnknown a write's ambiguous answer stands for, or None if the answer is clear."""
    if isinstance(exc, Transient) and not isinstance(exc, RateLimited) and exc.status is not None \
            and (exc.status == 408 or exc.status >= 500):
        return OutcomeUnknown(f"{what} answered {exc.status}, perhaps after committing: {exc.message}",
                              request_id=exc.request_id, status=exc.status)
    return None


class BusinessCentralClient(HttpStack):
    request_id_header = "request-id"
    idempotency_header = "x-expensico-idempotency-key"   # BC ignores it; it ties the call log to the record

    def __init__(self, connection: Connection, **kw):
        super().__init__(connection, session=kw.pop("session", None) or _session(connection))
        self._holding_place = False

    # Vendor hooks -------------------------------------------------------------------------
    def auth_headers(self) -> dict:
        return {"Authorization": f"Bearer {access_token(self.connection)}"}

    def refresh_auth(self) -> bool:
        msal_app(self.connection).remove_tokens_for_client()
        return True

    def parse_error(self, status: int, body) -> tuple[str, str | None, str]:
        error = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error, dict):
            return f"http_{status}", None, str(body or "")[:300]
        message = error.get("message", "")
        field = None
        if match := _FIELD_RE.search(message):
            field = CAPTION_FIELDS.get(match.group(1), match.group(1))
        elif match := _PROPERTY_RE.search(message):
            field = match.group(1)
        return error.get("code") or f"http_{status}", field, f"{error.get('code')}: {message}"[:500]

    def _translate(self, status: int, body, headers, request_id: str) -> ConnectorError:
        retry_after = parse_retry_after((headers or {}).get("Retry-After", ""))
        if status in (502, 503) and retry_after is not None:
            # BC sends Retry-After with both: the request was queued out, not processed.
            code, _, detail = self.parse_error(status, body)
            return RateLimited(detail or f"busy ({status})", retry_after=retry_after, request_id=request_id,
                               status=status)
        if status == 409 and self.parse_error(status, body)[0] == "Request_EntityChanged":
            # A concurrent edit made BC refuse the write: nothing of ours was changed.
            return Transient(self.parse_error(status, body)[2], request_id=request_id, status=status)
        code, _, detail = self.parse_error(status, body)
        if code == "Application_DialogException" and NOT_ALLOWED_DATE in detail:
            # General Ledger Setup's "Allow Posting From/To" (or the user's own range) excludes the
            # date. BC's message does not say where the open range starts (the connector asks).
            return PeriodClosed(detail, request_id=request_id, status=status)
        return super()._translate(status, body, headers, request_id)

    # BC's limits, enforced before anything is sent ----------------------------------------
    def _send(self, method, path, **kw) -> Response:
        if self._holding_place:
            # The stack's one re-send after a token refresh (a 401) runs inside this call: it uses
            # the place already held, or five refreshing workers would wait on each other.
            self._check_window()
            return super()._send(method, path, **kw)
        # The place is held across every worker process, so at most 5 requests are in flight
        # whatever the number of workers; the lease outlives any request (timeouts) if one dies.
        lease = CONNECT_TIMEOUT + self.timeout[1] + 30
        with concurrency_slot(self.connection, limit=CONCURRENT, lease=lease, wait_max=CONCURRENCY_WAIT):
            self._holding_place = True
            try:
                self._check_window()
                return super()._send(method, path, **kw)
            finally:
                self._holding_place = False

    def _check_window(self) -> None:
        """The call log is the sliding window: every attempt we sent is a row. A request is
        logged when its answer arrives, so up to CONCURRENT-1 others may be in flight unlogged
        beside this one: keeping that headroom makes the limit exact across workers."""
        since = timezone.now() - WINDOW
        recent = CallLog.objects.filter(connection_id=self.connection.pk, created_at__gte=since)
        limit = BusinessCentralSettings.of(self.connection).window_limit or WINDOW_LIMIT
        if recent.count() >= max(1, limit - (CONCURRENT - 1)):
            oldest = recent.order_by("created_at").values_list("created_at", flat=True).first()
            wait = max(1.0, (oldest + WINDOW - timezone.now()).total_seconds()) if oldest else 1.0
            raise ClientRateLimited(f"{limit} requests in 5 minutes reached", retry_after=wait)

    # Requests -----------------------------------------------------------------------------
    def request(self, method: str, path: str, *, read_only: bool | None = None, **kw) -> Response:
        method = method.upper()
        if read_only is None:
            read_only = method in ("GET", "HEAD", "OPTIONS")
        kw.setdefault("timeout", self.timeout)
        attempt = {"n": 0}

        write = not read_only and method != "DELETE"

        def once():
            attempt["n"] += 1
            try:
                return self.send(method, path, params=kw.get("params"), json_body=kw.get("json_body"),
                                 data=kw.get("data"), headers=kw.get("headers"),
                                 idempotency_key=kw.get("idempotency_key", ""), timeout=kw["timeout"],
                                 attempt=attempt["n"])
            except Transient as exc:
                unknown = unknown_if_ambiguous(exc, f"{method} {path}") if write else None
                if unknown:
                    raise unknown from exc
                raise

        hook = retry_hook if not write else _write_hook
        if (kw.get("headers") or {}).get("If-Match", "*") != "*":
            hook = _pinned(hook)
        return self.retrying(once, on=hook)

    def company_path(self, rest: str) -> str:
        company = BusinessCentralSettings.of(self.connection).company_id
        if not company:
            raise ConnectorError("no company chosen yet: run the connection check")
        return f"companies({company})/{rest}"

    def pages(self, path: str, *, page_size: int = PAGE_SIZE, **params):
        """Server-driven paging: each page with the requests it cost, following `@odata.nextLink`
        verbatim."""
        headers = {"Prefer": f"odata.maxpagesize={page_size}"}
        url, query = path, {k: v for k, v in params.items() if v is not None} or None
        for _ in range(MAX_PAGES):
            before = self.calls
            body = self.request("GET", url, params=query, headers=headers).body
            yield body["value"], self.calls - before   # OData v4 always sends `value`
            if not body.get("@odata.nextLink"):
                return
            url, query = body["@odata.nextLink"], None
        raise Permanent(f"{path}: Business Central has more than {MAX_PAGES} pages for this list", code="too_many_pages")

    def list_all(self, path: str, **params) -> list[dict]:
        return [row for rows, _ in self.pages(path, **params) for row in rows]

    def batch_groups(self, operations: list[dict], *, keys: list[str]) -> list[dict]:
        """One `$batch` (≤100 operations) of writes in atomicity groups, carrying the documents of
        `keys` (linked in the call log); the inner responses in order, failures included: a failed
        group was rolled back alone, so each group's answer is its document's. Only a failure of
        the whole call raises (an ambiguous one as OutcomeUnknown: any group may have committed)."""
        body = schema.batch(operations)

        def once() -> list[dict]:
            try:
                resp = self.send("POST", "$batch", json_body=body)
            except Transient as exc:
                unknown = unknown_if_ambiguous(exc, "$batch")
                if unknown:
                    raise unknown from exc
                raise
            return sorted(resp.body.get("responses", []), key=lambda r: int(r["id"]))

        with self.carrying(keys):
            return self.retrying(once, on=_write_hook)

    def batch(self, operations: list[dict], *, read_only: bool = False, idempotency_key: str = "",
              snapshot: bool = True, tolerate: tuple[int, ...] = ()) -> list[dict]:
        """Runs operations in `$batch` calls of ≤100, with `Isolation: snapshot` unless told not to;
        returns the inner responses in order. A failed inner write fails the call (in a snapshot
        batch BC rolled it all back), unless its status is one the caller tolerates."""
        out = []
        for chunk in schema.chunks(operations):
            body = schema.batch(chunk)
            hook = retry_hook if read_only else _write_hook

            def once(body=body):
                try:
                    resp = self.send("POST", "$batch", json_body=body,
                                     headers={"Isolation": "snapshot"} if snapshot else None,
                                     idempotency_key=idempotency_key)
                except Transient as exc:
                    unknown = None if read_only else unknown_if_ambiguous(exc, "$batch")
                    if unknown:
                        raise unknown from exc
                    raise
                inner = sorted(resp.body.get("responses", []), key=lambda r: int(r["id"]))
                for item in inner:
                    status = int(item.get("status", 500))
                    if status >= 400 and status not in tolerate and (not read_only or status == 429 or status >= 500):
                        if status == 424:           # "failed dependency": look for the cause
                            continue
                        raise self._translate(status, item.get("body"), item.get("headers") or {},
                                              resp.request_id)
                return inner

            out.extend(self.retrying(once, on=hook))
        return out
