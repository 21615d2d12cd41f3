"""A loopback HTTP server that records every request (method, path, headers, body): the stand-in
for a host an attacker points a connection at. `answers` maps a path to (status, headers, body)
for the few tests that need a particular answer (a redirect, a discovery document); anything
else is answered 401."""

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict
    body: bytes


@dataclass
class Listener:
    host: str = "127.0.0.1"
    requests: list[Recorded] = field(default_factory=list)
    answers: dict = field(default_factory=dict)
    # Like a host that knows none of our credentials: connectors stop at a clean AuthExpired.
    default: tuple = (401, {}, {"detail": "unauthorized"})

    def start(self) -> "Listener":
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self):
                length = int(self.headers.get("Content-Length") or 0)
                listener.requests.append(Recorded(self.command, self.path, dict(self.headers),
                                                  self.rfile.read(length) if length else b""))
                status, headers, body = listener.answers.get(self.path.split("?")[0], listener.default)
                payload = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((self.host, 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.server.server_port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def leaked(self, *secrets: str) -> list[str]:
        """Every place a request carried a credential: an Authorization header, or a secret's text."""
        found = []
        for r in self.requests:
            if any(k.lower() == "authorization" for k in r.headers):
                found.append(f"{r.method} {r.path}: Authorization header")
            text = json.dumps(r.headers) + r.body.decode("utf-8", "replace")
            found += [f"{r.method} {r.path}: {s!r}" for s in secrets if s and s in text]
        return found
