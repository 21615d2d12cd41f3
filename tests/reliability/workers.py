"""Real `qcluster` worker processes for fault tests: start, stop, SIGKILL, SIGSTOP/SIGCONT.

Each worker runs in its own session (process group), so a kill takes the sentinel and all of its
children at once, like a machine dying. Workers share the test's database, which must be
PostgreSQL (django-q2's ORM broker is not safe across processes on SQLite).
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


def database_url() -> str:
    """The URL of the database the test process is using right now (the test database)."""
    db = connection.settings_dict
    if db["ENGINE"] != "django.db.backends.postgresql":
        raise RuntimeError("real workers need PostgreSQL")
    host, port = db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


class Worker:
    def __init__(self, *, name: str = "w", workers: int = 1, timeout: int = 20, retry: int = 30,
                 extra_env: dict | None = None, log_dir: Path | None = None):
        self.name = name
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "Q_SYNC": "false",
            "Q_WORKERS": str(workers),
            "Q_TIMEOUT": str(timeout),
            "Q_RETRY": str(retry),
            "SECRET_KEY": settings.SECRET_KEY,
            "FIELD_ENCRYPTION_KEYS": ",".join(settings.FIELD_ENCRYPTION_KEYS),
            "VENDOR_HOSTS_ALLOW": ",".join(settings.VENDOR_HOSTS_ALLOW),   # the sandboxes are on loopback
            "DJANGO_SETTINGS_MODULE": "expensico_sync.settings",
            **(extra_env or {}),
        }
        self.env.pop("PYTEST_XDIST_WORKER", None)
        self.log_path = (log_dir or Path(settings.VAR_DIR)) / f"worker-{name}-{os.getpid()}.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Worker":
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=self.env,
                                     stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        return self

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def _signal(self, sig):
        if self.alive:
            os.killpg(self.proc.pid, sig)

    def kill(self):
        """SIGKILL the whole process group: no cleanup, no acknowledgements."""
        self._signal(signal.SIGKILL)
        if self.proc:
            self.proc.wait(timeout=10)

    def pause(self):
        self._signal(signal.SIGSTOP)

    def resume(self):
        self._signal(signal.SIGCONT)

    def stop(self, timeout: float = 15):
        if not self.alive:
            return
        self._signal(signal.SIGCONT)
        # The main process only: SIGTERM to the whole group hangs it (see expensico_sync.core.children).
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-5000:]
        except OSError:
            return ""

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def wait_until(predicate, *, timeout: float, interval: float = 0.1, what: str = "condition"):
    """Polls a predicate with a hard deadline (fault tests must stop by themselves)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
