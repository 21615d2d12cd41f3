"""A loopback TCP proxy that misbehaves on request: the faults a sandbox cannot fake itself.

    proxy = FaultProxy(("127.0.0.1", sandbox_port)).start()
    proxy.mode = Fault.delay(200)          # or .reset(), .blackhole(), .cut_after(120), Fault.PASS
    base_url = proxy.url
    proxy.stop()

Faults apply to connections accepted after the switch. Everything binds to 127.0.0.1, every
thread is a daemon, and `stop()` closes all sockets, so a test cannot leave it running.
"""

import socket
import struct
import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Fault:
    kind: str = "pass"
    delay_ms: int = 0
    cut_after: int = 0

    @classmethod
    def delay(cls, ms: int) -> "Fault":
        """Holds each chunk of the response for `ms` before passing it on."""
        return cls("delay", delay_ms=ms)

    @classmethod
    def reset(cls) -> "Fault":
        """Reads the request, then answers with a TCP RST (the request may have been forwarded)."""
        return cls("reset")

    @classmethod
    def reset_before_send(cls) -> "Fault":
        """RST at accept time: nothing reaches the upstream."""
        return cls("reset_before_send")

    @classmethod
    def blackhole(cls) -> "Fault":
        """Accepts and reads, never answers (the client's read timeout fires)."""
        return cls("blackhole")

    @classmethod
    def cut(cls, n_bytes: int) -> "Fault":
        """Forwards the request, passes the first n response bytes, then closes."""
        return cls("cut", cut_after=n_bytes)


Fault.PASS = Fault()


def _rst(sock: socket.socket) -> None:
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    except OSError:
        pass


class FaultProxy:
    def __init__(self, upstream: tuple[str, int], *, host: str = "127.0.0.1", port: int = 0):
        if not upstream[0].startswith("127.") and upstream[0] not in ("localhost", "::1"):
            raise ValueError("the fault proxy only forwards to loopback addresses")
        self.upstream = upstream
        self.mode = Fault.PASS
        self.connections = 0
        self._listener = socket.create_server((host, port))
        self._listener.settimeout(0.2)
        self._stop = threading.Event()
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept_loop, daemon=True, name="fault-proxy")

    @property
    def url(self) -> str:
        host, port = self._listener.getsockname()[:2]
        return f"http://{host}:{port}"

    def start(self) -> "FaultProxy":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._listener.close()
        with self._lock:
            for sock in list(self._sockets):
                try:
                    sock.close()
                except OSError:
                    pass
            self._sockets.clear()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _track(self, sock):
        with self._lock:
            self._sockets.add(sock)
        return sock

    def _accept_loop(self):
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(self._track(client), self.mode), daemon=True).start()

    def _serve(self, client: socket.socket, fault: Fault):
        if fault.kind == "reset_before_send":
            return _rst(client)
        if fault.kind == "blackhole":
            client.settimeout(0.2)
            while not self._stop.is_set():
                try:
                    if not client.recv(65536):
                        break
                except TimeoutError:
                    continue
                except OSError:
                    break
            return client.close()
        try:
            upstream = self._track(socket.create_connection(self.upstream, timeout=5))
        except OSError:
            return _rst(client)
        t = threading.Thread(target=self._pump, args=(client, upstream, None), daemon=True)
        t.start()
        if fault.kind == "reset":
            # Let the request through, wait for the upstream to answer, then reset instead of replying.
            try:
                upstream.settimeout(10)
                upstream.recv(1, socket.MSG_PEEK)
            except OSError:
                pass
            _rst(client)
            upstream.close()
            return
        self._pump(upstream, client, fault)

    def _pump(self, src: socket.socket, dst: socket.socket, fault: Fault | None):
        sent = 0
        src.settimeout(0.5)
        try:
            while not self._stop.is_set():
                try:
                    chunk = src.recv(65536)
                except TimeoutError:
                    continue
                if not chunk:
                    break
                if fault and fault.kind == "delay":
                    time.sleep(fault.delay_ms / 1000)
                if fault and fault.kind == "cut":
                    room = fault.cut_after - sent
                    if room <= 0:
                        break
                    chunk = chunk[:room]
                dst.sendall(chunk)
                sent += len(chunk)
                if fault and fault.kind == "cut" and sent >= fault.cut_after:
                    break
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()
