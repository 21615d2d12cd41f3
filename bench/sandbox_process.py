"""A vendor sandbox in a process of its own for the export benchmark (`bench/export.py --sandbox`
serves it), with the bench's controls added to the sandbox's own."""

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from bench.database import ROOT, django_setup
from bench.systems import system_for

EXPORT = ROOT / "bench" / "export.py"
# The sandboxes listen on loopback; this process and every worker it starts send credentials there.
os.environ.setdefault("VENDOR_HOSTS_ALLOW", "127.0.0.1,localhost")


def free_port() -> int:
    """A free loopback port; within BENCH_PORTS ("9700-9799") where a shared machine assigns ranges."""
    low, _, high = os.environ.get("BENCH_PORTS", "0-0").partition("-")
    for port in range(int(low), int(high) + 1) if int(low) else [0]:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise RuntimeError(f"no free port in BENCH_PORTS={os.environ['BENCH_PORTS']}")


class SandboxProcess:
    """The system's sandbox in its own process, with two bench-only controls added there:
    `bench-info` (base URL, CA bundle, account to map) and `bench-held` (documents held per
    reference, as the vendor package's testkit counts them)."""

    def __init__(self, *, system: str, latency_ms: int, log_dir: Path):
        self.system = system
        self.port = free_port()
        argv = [sys.executable, str(EXPORT), "--sandbox", "--system", system, "--port", str(self.port),
                "--latency-ms", str(latency_ms)]
        self.log = open(log_dir / f"bench-sandbox-{self.port}.log", "wb")
        self.proc = subprocess.Popen(argv, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT,
                                     env={**os.environ, "Q_SYNC": "false"})
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            self.stop()
            raise RuntimeError("the sandbox did not start")
        self.info = self.control("bench-info")

    @property
    def base_url(self) -> str:
        return self.info["base_url"]

    def control(self, action: str, body: dict | None = None):
        """Loopback control calls; the BC sandbox's certificate is self-signed and only the
        connector under test is made to verify it (with the CA bundle)."""
        import requests
        import urllib3

        urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        scheme = system_for(self.system).control_scheme
        url = f"{scheme}://127.0.0.1:{self.port}/__sandbox__/{action}/"
        if body is None:
            resp = requests.get(url, timeout=60, verify=False)
        else:
            resp = requests.post(url, json=body, timeout=300, verify=False)
        resp.raise_for_status()
        return resp.json() if resp.content else None

    def limits(self, *, on: bool, rate: int) -> None:
        self.control("bench-limits", {"on": on, "rate": rate})

    def held(self, refs: list[str]) -> dict[str, int]:
        return self.control("bench-held", {"refs": refs})

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def sandbox_main(args) -> int:
    """The sandbox `manage.py sandbox NAME` serves, plus the bench's controls (see SandboxProcess)."""
    django_setup(os.environ.get("DATABASE_URL", "sqlite:///:memory:"))
    import signal

    from connectors.sandboxing.server import Response

    system = system_for(args.system)
    server = system.make_server(port=args.port)
    system.prepare(server)
    app = server.app
    app.latency_ms = args.latency_ms
    vendor_control = app.control

    def control(req):
        action = req.path.rstrip("/").rsplit("/", 1)[-1]
        if action == "bench-info":
            return Response(200, {"base_url": server.base_url, "ca_bundle": getattr(app, "ca_bundle", None),
                                  "endpoint_path": getattr(app, "endpoint_path", None),
                                  "travel_account": system.travel_account(server)})
        if action == "bench-held":
            return Response(200, {ref: len(system.kit.held(server, ref)) for ref in req.json()["refs"]})
        if action == "bench-limits":
            body = req.json()
            system.vendor_limits(server, body["on"])
            with app.lock:
                app.rate_limit = {"per_second": body["rate"], "retry_after": None} if body["on"] and body["rate"] \
                    else None
                app._window = (0, 0)
            return Response(204)
        return vendor_control(req)

    app.control = control
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0
