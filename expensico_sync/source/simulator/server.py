"""The Expensico pull API (§2) over real HTTP, serving a generated Dataset.

Keyset cursors on (approved_at, id) / (date, id), so rows sharing a timestamp are never skipped.
Fault switches: every Nth request answers 429 (with Retry-After) or 503.
"""

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from .generator import Dataset


def _encode(key: tuple) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key)).encode()).decode()


def _decode(cursor: str) -> tuple:
    return tuple(json.loads(base64.urlsafe_b64decode(cursor.encode())))


class SimulatorState:
    def __init__(self, dataset: Dataset, token: str, rate_limit_every: int = 0, error_every: int = 0,
                 retry_after: int = 1):
        self.dataset = dataset
        self.token = token
        self.rate_limit_every = rate_limit_every
        self.error_every = error_every
        self.retry_after = retry_after
        self.requests = 0
        self.lock = threading.Lock()

    def fault(self) -> int | None:
        with self.lock:
            self.requests += 1
            n = self.requests
        if self.rate_limit_every and n % self.rate_limit_every == 0:
            return 429
        if self.error_every and n % self.error_every == 0:
            return 503
        return None


def _in_range(value: str, lo: str | None, hi: str | None) -> bool:
    day = value[:10]
    return (not lo or day >= lo) and (not hi or day <= hi)


class Handler(BaseHTTPRequestHandler):
    server_version = "ExpensicoSimulator/1.0"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # keep test and devstack output quiet
        pass

    @property
    def state(self) -> SimulatorState:
        return self.server.state

    def _send(self, status: int, body, content_type="application/json", headers=None):
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(raw)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(raw)

    def _page(self, rows: list, key, query):
        limit = max(1, min(int(query.get("limit", ["100"])[0]), 500))
        rows = sorted(rows, key=key)
        if query.get("cursor"):
            after = _decode(query["cursor"][0])
            rows = [r for r in rows if tuple(key(r)) > after]
        page = rows[:limit]
        more = len(rows) > limit
        self._send(200, {"data": page, "next_cursor": _encode(tuple(key(page[-1]))) if more else None})

    def do_GET(self):  # noqa: N802 (http.server's naming)
        if self.headers.get("Authorization") != f"Bearer {self.state.token}":
            return self._send(401, {"error": "unauthorized"})
        fault = self.state.fault()
        if fault == 429:
            return self._send(429, {"error": "rate limited"}, headers={"Retry-After": str(self.state.retry_after)})
        if fault:
            return self._send(fault, {"error": "temporarily unavailable"})
        url = urlparse(self.path)
        query = parse_qs(url.query)
        one = lambda name: query.get(name, [None])[0]  # noqa: E731
        parts = [p for p in url.path.split("/") if p]
        ds = self.state.dataset
        if parts[:1] != ["v1"]:
            return self._send(404, {"error": "not found"})
        parts = parts[1:]
        if parts == ["expense-reports"]:
            rows = [r for r in ds.reports if _in_range(r["approved_at"], one("approved_from"), one("approved_to"))]
            return self._page(rows, lambda r: (r["approved_at"], r["id"]), query)
        if len(parts) == 2 and parts[0] == "expense-reports":
            found = next((r for r in ds.reports if r["id"] == parts[1]), None)
            return self._send(200, found) if found else self._send(404, {"error": "not found"})
        dated = {"card-fundings": ds.fundings, "reimbursements": ds.reimbursements,
                 "bank-statement-lines": [{**line, "bank_account": ds.bank_account} for line in ds.statement_lines]}
        if len(parts) == 1 and parts[0] in dated:
            rows = [r for r in dated[parts[0]] if _in_range(r["date"], one("date_from"), one("date_to"))]
            return self._page(rows, lambda r: (r["date"], r["id"]), query)
        if parts == ["categories"]:
            return self._page(ds.categories, lambda r: ("", r["id"]), query)
        if len(parts) == 3 and parts[0] == "receipts" and parts[2] == "content":
            content = ds.receipts.get(parts[1])
            if content is None:
                return self._send(404, {"error": "not found"})
            return self._send(200, content, content_type="application/pdf")
        return self._send(404, {"error": "not found"})


class SimulatorServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, state: SimulatorState):
        super().__init__(address, Handler)
        self.state = state

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


def serve_in_thread(dataset_factory, *, host="127.0.0.1", port=0, token="sim-token", **faults):
    """Starts on a free port (port=0) in a daemon thread. dataset_factory(base_url) -> Dataset,
    so receipt URLs point at this server. Returns the server; call .shutdown() to stop."""
    state = SimulatorState(Dataset(seed=0, scale=0), token, **faults)
    server = SimulatorServer((host, port), state)
    state.dataset = dataset_factory(server.base_url)
    threading.Thread(target=server.serve_forever, name="expensico-simulator", daemon=True).start()
    return server
