"""Signing and posting like Expensico does."""

import json

from expensico_sync.source.simulator.sender import sign


def webhook_url(org) -> str:
    return f"/api/v1/expensico/webhooks/{org.slug}/"


def post_event(client, org, body, *, webhook_id="msg_1", secret=None, timestamp=None, raw=None, headers=None):
    """Signs and posts like Expensico does. `raw` overrides the encoded body (for malformed JSON)."""
    text = raw if raw is not None else json.dumps(body)
    signed = sign(secret=secret or org.webhook_secret, webhook_id=webhook_id, body=text, timestamp=timestamp)
    signed.update(headers or {})
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in signed.items() if k != "content-type"}
    return client.post(webhook_url(org), data=text.encode(), content_type="application/json", **extra)


def approved(report) -> dict:
    return {"type": "expense_report.approved", "created_at": "2026-03-02T10:00:00Z", "data": {"report": report}}


class Listener:
    """A real HTTP server on loopback recording every request that reaches it (path and
    Authorization header). `answer(handler)` writes the response: 200 with `body` by default."""

    def __init__(self, body: bytes = b"%PDF-1.7 listener", answer=None):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        listener = self
        self.requests: list[tuple[str, str | None]] = []
        self.body = body
        self.answer = answer or (lambda h: listener.send(h, 200, listener.body))

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                listener.requests.append((self.path, self.headers.get("Authorization")))
                listener.answer(self)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def url(self, path: str = "", host: str = "127.0.0.1", scheme: str = "http") -> str:
        return f"{scheme}://{host}:{self.port}{path}"

    @staticmethod
    def send(handler, status: int, body: bytes = b"", **headers) -> None:
        handler.send_response(status)
        for name, value in {"Content-Length": str(len(body)), **headers}.items():
            handler.send_header(name.replace("_", "-"), value)
        handler.end_headers()
        handler.wfile.write(body)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
