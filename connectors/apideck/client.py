"""Apideck Unify (Accounting API, service `workday`) on the shared HTTP stack: plain requests.

Apideck has no request idempotency header, so a POST is never retried by the stack: the connector
looks the document up by our reference before any re-send. The idempotency key is still written
to the call log (never sent), which is how the connector knows a push is a re-send.
"""

from ..errors import ConnectorError, PeriodClosed, Permanent
from ..http import HttpStack, Response
from ..models import Connection
from ..workday.client import CLOSED_PERIOD_TEXTS
from .settings import ApideckUnifySettings

MAX_PAGES = 500
PAGE_SIZE = 200      # Apideck's maximum


class ApideckClient(HttpStack):
    request_id_header = "Request-Id"

    def __init__(self, connection: Connection, **kw):
        super().__init__(connection, **kw)
        self._log_key = ""

    def auth_headers(self) -> dict:
        s = ApideckUnifySettings.of(self.connection)
        headers = {"Authorization": f"Bearer {self.connection.api_key}",
                   "x-apideck-app-id": s.app_id, "x-apideck-consumer-id": s.consumer_id,
                   "x-apideck-service-id": s.service_id}
        return headers

    def parse_error(self, status: int, body) -> tuple[str, str | None, str]:
        """Apideck's envelope: {status_code, error, type_name, message, detail, downstream_errors}."""
        if not isinstance(body, dict) or "type_name" not in body:
            if isinstance(body, dict) and body.get("errors"):      # generic gateway answer
                first = body["errors"][0]
                return first.get("code") or f"http_{status}", first.get("attr"), first.get("detail", "")
            return f"http_{status}", None, str(body or "")[:300]
        detail, field = body.get("detail"), None
        downstream = body.get("downstream_errors") or []
        if downstream:
            field = downstream[0].get("detail") or None
            text = "; ".join(f"{d.get('detail') or ''}: {d.get('message')}".lstrip(": ") for d in downstream)
        elif isinstance(detail, dict):
            # {"missing": [{"field": "required"}]} and similar: the first key names the field.
            for entries in detail.values():
                if isinstance(entries, list) and entries and isinstance(entries[0], dict):
                    field = next(iter(entries[0]))
                    break
            text = f"{body.get('message', '')}: {detail}"
        else:
            text = f"{body.get('message', '')}: {detail}" if detail else body.get("message", "")
        return body["type_name"], field, f"{body['type_name']}: {text}"[:500]

    def _translate(self, status: int, body, headers, request_id: str) -> ConnectorError:
        error = super()._translate(status, body, headers, request_id)
        if isinstance(error, Permanent) and any(text in error.message for text in CLOSED_PERIOD_TEXTS):
            # Workday's closed-period fault, passed through in `downstream_errors`.
            return PeriodClosed(error.message, request_id=request_id, status=status)
        return error

    def call(self, method: str, path: str, **kw) -> Response:
        return self.request(method, path, timeout=self.timeout, **kw)

    def create(self, path: str, payload: dict, idempotency_key: str) -> Response:
        self._log_key = idempotency_key
        try:
            return self.call("POST", path, json_body=payload)
        finally:
            self._log_key = ""

    def _log(self, method, path, params, status, started, resp_headers, key, *rest):
        # The key is logged but never sent (no such header at Apideck, and sending it would make
        # the stack retry a POST Apideck cannot deduplicate).
        super()._log(method, path, params, status, started, resp_headers, key or self._log_key, *rest)

    def list_all(self, path: str, **params) -> list[dict]:
        return [row for page in self.pages(path, **params) for row in page]

    def pages(self, path: str, **params):
        """The list one page (one request) at a time, following `meta.cursors.next`."""
        params = {k: v for k, v in params.items() if v is not None}
        params.setdefault("limit", PAGE_SIZE)
        for _ in range(MAX_PAGES):
            body = self.call("GET", path, params=params).body
            yield body["data"]   # every list answer has it; without it the list is unknown, not empty
            cursor = ((body.get("meta") or {}).get("cursors") or {}).get("next")
            if not cursor:
                return
            params = {**params, "cursor": cursor}
        raise Permanent(f"{path}: Apideck has more than {MAX_PAGES} pages of {params['limit']} for this list; narrow it "
                        f"(e.g. filter[updated_since]) before trying again", code="too_many_pages", field=None)
