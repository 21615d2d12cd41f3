"""Moon ERP's HTTP client on the shared stack: Bearer token, Laravel error bodies, `links.next`
pagination, and the one retry policy Moon needs for its POSTs.

Moon has no idempotency key, so the stack never retries a POST by itself. `post` retries only
what provably did not take effect (5xx, 429 honouring Retry-After, connection refused); an
outcome-unknown POST is resolved by the connector with a lookup before anything is re-sent.
"""

import stamina

from ..errors import OutcomeUnknown
from ..http import CONNECT_TIMEOUT, READ_TIMEOUT, RETRY_ATTEMPTS, HttpStack, Response, retry_hook
from ..models import CallLog, Connection

MAX_PAGES = 400
STATE_FIELDS = {"status"}           # 422s about the document's state, not its content


def _resend_safe(exc: Exception) -> bool | float:
    if isinstance(exc, OutcomeUnknown):
        return False
    return retry_hook(exc)


class MoonClient(HttpStack):
    request_id_header = "X-Request-Id"
    idempotency_header = "X-Expensico-Idempotency-Key"   # Moon ignores it; it ties the call log to the record

    def __init__(self, connection: Connection, **kw):
        super().__init__(connection, **kw)
        self.timeout = (CONNECT_TIMEOUT, float(connection.settings.get("read_timeout") or READ_TIMEOUT))

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
        if "errors" in body and isinstance(body["errors"], list):   # the shared fault switches' shape
            first = body["errors"][0] if body["errors"] else {}
            return first.get("code") or f"http_{status}", first.get("attr"), first.get("detail", "")
        code = {403: "permission_denied", 404: "not_found"}.get(status, f"http_{status}")
        return code, None, str(body.get("message") or "")[:300]

    def call(self, method: str, path: str, **kw) -> Response:
        return self.request(method, path, timeout=self.timeout, **kw)

    def post(self, path: str, payload: dict | None = None, *, key: str = "") -> Response:
        """`key` (our idempotency key) is not Moon's: it only ties the call log to the record, so
        a later attempt knows this record already wrote to Moon and looks it up first. The stack's
        keyed-retry is therefore bypassed: a lost answer is never re-sent blind."""
        attempt = {"n": 0}

        def once():
            attempt["n"] += 1
            return self._send("POST", path, params=None, json_body=payload if payload is not None else {},
                              files=None, data=None, headers=None, idempotency_key=key, timeout=self.timeout,
                              attempt=attempt["n"])

        return stamina.retry(on=_resend_safe, attempts=RETRY_ATTEMPTS, timeout=120)(once)()

    def wrote_before(self, key: str) -> bool:
        """Did any earlier call carry this key (whatever its answer)?"""
        return bool(key) and CallLog.objects.filter(connection_id=self.connection.pk, idempotency_key=key).exists()

    def list_all(self, path: str, **filters) -> list[dict]:
        """Every page, following `links.next` (absolute URLs that keep the filters)."""
        params = {k: v for k, v in filters.items() if v not in (None, "")}
        url, out = path, []
        for _ in range(MAX_PAGES):
            body = self.call("GET", url, params=params or None).body
            out.extend(body["data"])
            nxt = (body.get("links") or {}).get("next")
            if not nxt:
                return out
            url, params = nxt, None
        raise RuntimeError(f"{path}: more than {MAX_PAGES} pages")


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
