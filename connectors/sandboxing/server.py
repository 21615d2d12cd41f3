"""What every vendor sandbox shares: a real threaded HTTP server, the fault switches and the
`/__sandbox__/` control endpoint (ARCHITECTURE §4: tests drive connectors over real sockets).

A vendor sandbox subclasses `SandboxApp` (its state and routes) and is served by
`SandboxServer`, either in-process on a random port (tests) or from `manage.py sandbox NAME`.
Faults are queued rules consumed by matching requests, so a test can say "the next two POSTs to
/expenses/ get a 503" and nothing else is disturbed.
"""

import json
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

# "malformed": the request is handled, then the answer loses the keys named in `drop` (at any
# depth) or is replaced by `body`: a vendor answering outside its own contract.
FAULT_KINDS = {"rate_limit", "server_error", "reset", "drop_after_commit", "slow", "malformed"}


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    base_url: str

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    @property
    def content_type(self) -> str:
        return self.header("content-type").split(";")[0].strip().lower()

    def json(self):
        if not self.body:
            return None
        if self.content_type == "application/x-www-form-urlencoded":
            return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}

    def files(self) -> dict[str, tuple[str, str, bytes]]:
        """multipart/form-data → {field: (filename, content type, bytes)}."""
        raw = b"Content-Type: " + self.header("content-type").encode() + b"\r\n\r\n" + self.body
        message = BytesParser(policy=HTTP).parsebytes(raw)
        out = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            out[name] = (part.get_filename() or "", part.get_content_type(), part.get_payload(decode=True) or b"")
        return out


@dataclass
class Response:
    status: int
    body: object = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"

    def encoded(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body, ensure_ascii=False).encode()


@dataclass
class Fault:
    kind: str
    count: int = 1
    method: str = ""               # "" matches any
    path: str = ""                 # substring of the path; "" matches any
    status: int = 503
    retry_after: str | None = None
    seconds: float = 0.0
    drop: tuple[str, ...] = ()
    body: object = None

    def malform(self, resp: "Response") -> "Response":
        if self.body is not None:
            return Response(resp.status, self.body, resp.headers, resp.content_type)
        return Response(resp.status, _without(resp.body, set(self.drop)), resp.headers, resp.content_type)

    def matches(self, req: Request) -> bool:
        return ((not self.method or self.method.upper() == req.method)
                and (not self.path or self.path in req.path))


def _without(value, keys: set[str]):
    if isinstance(value, dict):
        return {k: _without(v, keys) for k, v in value.items() if k not in keys}
    if isinstance(value, list):
        return [_without(v, keys) for v in value]
    return value


class SandboxApp:
    """A vendor's state and routes. Subclasses implement `handle(req) -> Response` and
    `ledger() -> dict` (what the vendor holds, for reliability assertions)."""

    name = "sandbox"

    def __init__(self):
        self.lock = threading.RLock()
        self.faults: list[Fault] = []
        self.latency_ms = 0
        self.rate_limit: dict | None = None   # {"per_second": n, "retry_after": "1" | None}
        self._window = (0, 0)
        self.observers: list = []             # fn(req, resp) for every exchange (OpenAPI checks)
        self.requests_seen = 0

    # To implement -----------------------------------------------------------------------
    def handle(self, req: Request) -> Response:
        raise NotImplementedError

    def ledger(self) -> dict:
        return {}

    def reset(self) -> None:
        raise NotImplementedError

    def banner(self, base_url: str) -> list[str]:
        return [f"{self.name} sandbox: {base_url}"]

    # Fault answers: override to answer in the vendor's own shape -------------------------
    def rate_limited_response(self, retry_after: str | None) -> Response:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        return Response(429, {"type": "client_error", "errors": [
            {"code": "throttled", "detail": "Request was throttled.", "attr": None}]}, headers)

    def server_error_response(self, status: int, retry_after: str | None) -> Response:
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        return Response(status, {"type": "server_error", "errors": [
            {"code": "error", "detail": "A server error occurred.", "attr": None}]}, headers)

    # Faults -----------------------------------------------------------------------------
    def inject(self, kind: str, **kw) -> Fault:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; known: {sorted(FAULT_KINDS)}")
        fault = Fault(kind=kind, **kw)
        with self.lock:
            self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()
            self.latency_ms = 0
            self.rate_limit = None

    def take_fault(self, req: Request) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.matches(req):
                    fault.count -= 1
                    if fault.count <= 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def over_rate_limit(self) -> bool:
        with self.lock:
            if not self.rate_limit:
                return False
            now = int(time.time())
            start, count = self._window
            if start != now:
                start, count = now, 0
            count += 1
            self._window = (start, count)
            return count > int(self.rate_limit.get("per_second", 10))

    def control(self, req: Request) -> Response:
        """`/__sandbox__/`: GET state|ledger, POST faults|settings|reset."""
        action = req.path.rstrip("/").rsplit("/", 1)[-1]
        if req.method == "GET" and action in ("__sandbox__", "ledger"):
            return Response(200, {"ledger": self.ledger(), "faults": [f.__dict__ for f in self.faults],
                                  "latency_ms": self.latency_ms, "rate_limit": self.rate_limit})
        if req.method == "POST" and action == "faults":
            body = req.json() or {}
            items = body if isinstance(body, list) else [body]
            try:
                for item in items:
                    self.inject(**item)
            except (TypeError, ValueError) as exc:
                return Response(400, {"detail": str(exc)})
            return Response(201, {"faults": [f.__dict__ for f in self.faults]})
        if req.method == "POST" and action == "settings":
            body = req.json() or {}
            with self.lock:
                if "latency_ms" in body:
                    self.latency_ms = int(body["latency_ms"])
                if "rate_limit" in body:
                    self.rate_limit = body["rate_limit"]
            return Response(200, {"latency_ms": self.latency_ms, "rate_limit": self.rate_limit})
        if req.method == "POST" and action == "clear":
            self.clear_faults()
            return Response(204)
        if req.method == "POST" and action == "reset":
            self.clear_faults()
            self.reset()
            return Response(204)
        return Response(404, {"detail": "unknown sandbox control"})


def _make_handler(app: SandboxApp, server_ref):
    class Handler(BaseHTTPRequestHandler):
        # http.server writes headers and body separately; with Nagle on, loopback adds ~40 ms.
        disable_nagle_algorithm = True
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):  # the call log is the client's job; keep test output quiet
            if server_ref.verbose:
                super().log_message(fmt, *args)

        def _serve(self):
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            req = Request(method=self.command, path=parts.path, query=parse_qs(parts.query, keep_blank_values=True),
                          headers={k.lower(): v for k, v in self.headers.items()}, body=body,
                          base_url=server_ref.base_url)
            if req.path.startswith("/__sandbox__"):
                return self._write(app.control(req))
            app.requests_seen += 1
            if app.latency_ms:
                time.sleep(app.latency_ms / 1000)
            fault = app.take_fault(req)
            if fault and fault.kind == "reset":
                return self._reset()
            if fault and fault.kind == "rate_limit" or (not fault and app.over_rate_limit()):
                retry_after = fault.retry_after if fault else (app.rate_limit or {}).get("retry_after")
                return self._write(app.rate_limited_response(retry_after), req)
            if fault and fault.kind == "server_error":
                return self._write(app.server_error_response(fault.status, fault.retry_after), req)
            resp = app.handle(req)
            if fault and fault.kind == "drop_after_commit":
                return self._reset()
            if fault and fault.kind == "slow":
                time.sleep(fault.seconds)
            if fault and fault.kind == "malformed":
                # Not shown to the observers: they check the sandbox keeps its vendor's contract.
                return self._write(fault.malform(resp))
            self._write(resp, req)

        def _write(self, resp: Response, req: Request | None = None):
            if req is not None:
                for observer in list(app.observers):
                    observer(req, resp)
            payload = resp.encoded()
            self.send_response(resp.status)
            if payload:
                self.send_header("Content-Type", resp.content_type)
            self.send_header("Content-Length", str(len(payload)))
            for key, value in resp.headers.items():
                self.send_header(key, value)
            self.end_headers()
            if payload:
                self.wfile.write(payload)

        def _reset(self):
            # SO_LINGER 0 makes close() send a RST: the client sees "connection reset by peer".
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    return Handler


class SandboxServer:
    """Serves one `SandboxApp` on a real socket. `start()` runs it in a daemon thread."""

    def __init__(self, app: SandboxApp, *, host: str = "127.0.0.1", port: int = 0, verbose: bool = False):
        self.app = app
        self.verbose = verbose
        self.httpd = ThreadingHTTPServer((host, port), _make_handler(app, self))
        self.httpd.daemon_threads = True
        self.host, self.port = self.httpd.server_address[:2]
        self.thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> "SandboxServer":
        self.thread = threading.Thread(target=self.httpd.serve_forever, name=f"{self.app.name}-sandbox", daemon=True)
        self.thread.start()
        return self

    def serve_forever(self) -> None:
        self.httpd.serve_forever()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def control_settings(server: SandboxServer, settings: dict) -> dict:
    """POSTs `settings` to a running sandbox's `/__sandbox__/settings` over HTTP (what the testkits'
    switches such as `lock_period` use, as a person at the vendor's settings screen would)."""
    import requests
    answer = requests.post(f"{server.base_url}/__sandbox__/settings", json=settings, timeout=5)
    answer.raise_for_status()
    return answer.json()
