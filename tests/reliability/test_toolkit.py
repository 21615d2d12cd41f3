"""The fault toolkit itself: each proxy fault does what it says, over real sockets."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from .faultproxy import Fault, FaultProxy


class _Handler(BaseHTTPRequestHandler):
    hits = 0

    def do_POST(self):
        length = int(self.headers.get("content-length", 0))
        self.rfile.read(length)
        type(self).hits += 1
        body = b"x" * 1000
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def upstream():
    _Handler.hits = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def test_pass_and_delay(upstream):
    with FaultProxy(upstream.server_address) as proxy:
        assert requests.post(proxy.url, data=b"hi", timeout=5).content == b"x" * 1000
        proxy.mode = Fault.delay(300)
        started = time.monotonic()
        requests.post(proxy.url, data=b"hi", timeout=5)
        assert time.monotonic() - started >= 0.3


def test_reset_after_the_upstream_saw_the_request(upstream):
    with FaultProxy(upstream.server_address) as proxy:
        proxy.mode = Fault.reset()
        with pytest.raises(requests.ConnectionError):
            requests.post(proxy.url, data=b"hi", timeout=5)
        time.sleep(0.1)
        assert _Handler.hits == 1  # the vendor committed; the client only saw a reset


def test_reset_before_send_never_reaches_upstream(upstream):
    with FaultProxy(upstream.server_address) as proxy:
        proxy.mode = Fault.reset_before_send()
        with pytest.raises(requests.ConnectionError):
            requests.post(proxy.url, data=b"hi", timeout=5)
        assert _Handler.hits == 0


def test_blackhole_times_out(upstream):
    with FaultProxy(upstream.server_address) as proxy:
        proxy.mode = Fault.blackhole()
        with pytest.raises(requests.ReadTimeout):
            requests.post(proxy.url, data=b"hi", timeout=(1, 0.5))
        assert _Handler.hits == 0


def test_cut_after_n_bytes(upstream):
    with FaultProxy(upstream.server_address) as proxy:
        proxy.mode = Fault.cut(120)
        with pytest.raises(requests.exceptions.ChunkedEncodingError):
            requests.post(proxy.url, data=b"hi", timeout=5).content  # noqa: B018
        assert _Handler.hits == 1


def test_refuses_non_loopback_targets():
    with pytest.raises(ValueError):
        FaultProxy(("10.0.0.1", 80))
