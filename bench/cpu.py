"""CPU accounting for the benchmarks: per process from /proc, and PostgreSQL's backends for one
database found by their process title whatever the cluster prefix ("postgres: postgres db …" or
"postgres: 15/main: postgres db …"). A backend's CPU is lost when it exits, so a sampler thread
reads every backend of the database while the run goes on and keeps each one's last reading."""

import os
import re
import threading
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float:
    """utime + stime of one live process in seconds (0.0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def backend_pattern(database: str) -> re.Pattern:
    return re.compile(rf"^postgres: (?:[^ ]+: )?[^ ]+ {re.escape(database)} ")


def backends(database: str) -> dict[int, float]:
    """{pid: CPU seconds} of every live PostgreSQL backend connected to `database`."""
    pattern, found = backend_pattern(database), {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        if pattern.match(title):
            found[int(pid)] = process_cpu(int(pid))
    return found


class BackendSampler:
    """CPU the database's backends spent between start() and stop(), including backends that
    connected and exited in between (each counted up to its last sample, every `interval` s)."""

    def __init__(self, database: str, interval: float = 0.1):
        self.database, self.interval = database, interval
        self._start: dict[int, float] = {}
        self._last: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> "BackendSampler":
        self._start = backends(self.database)
        self._last = dict(self._start)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._last.update(backends(self.database))

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        self._last.update(backends(self.database))
        return sum(cpu - self._start.get(pid, 0.0) for pid, cpu in self._last.items())
