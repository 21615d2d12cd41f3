"""`make run` stopped by a signal leaves no process behind (issue 14, item 9).

The devstack really starts: web server, a qcluster (its sentinel, monitor, pusher and worker), the
Expensico simulator and every vendor sandbox, on ports of their own. Once all are up, a SIGTERM
arrives the way it does in practice, and every process that was part of the tree must be gone.
"""

import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection as db_connection

from expensico_sync.core.children import Children
from expensico_sync.core.devstack import devstack_modules
from tests.reliability.workers import database_url

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.skipif(db_connection.vendor != "postgresql",
                       reason="the devstack's processes share the test database; SQLite's is in memory"),
    pytest.mark.django_db(transaction=True),
]


def _stat(pid: int) -> tuple[int, int, int, str] | None:
    """(ppid, pgid, start time, state) from /proc, or None once the process is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = raw[raw.rindex(")") + 2:].split()  # the command name may contain spaces and parentheses
    return int(fields[1]), int(fields[2]), int(fields[19]), fields[0]


def _processes() -> dict[int, tuple[int, int, int, str]]:
    out = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (stat := _stat(int(entry))):
            out[int(entry)] = stat
    return out


def tree(root: int) -> dict[int, tuple[int, int, int, str]]:
    """The root and all of its descendants."""
    procs = _processes()
    found, frontier = {}, [root]
    while frontier:
        pid = frontier.pop()
        if pid in procs:
            found[pid] = procs[pid]
            frontier.extend(child for child, stat in procs.items() if stat[0] == pid)
    return found


def survivors(seen: dict[int, tuple[int, int, int, str]]) -> list[str]:
    """Processes of the tree still running, or anything else left in one of its process groups."""
    groups = {stat[1] for stat in seen.values()}
    left = []
    for pid, (_, pgid, start, state) in _processes().items():
        ours = (pid in seen and seen[pid][2] == start) or pgid in groups
        if ours and state != "Z":
            left.append(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
    return left


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _ephemeral_low() -> int:
    """The first port the kernel hands out to outgoing connections (32768 unless tuned)."""
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port_offset() -> int:
    """An offset that moves the web server (8000) and every fixed port the apps use onto free ports.

    Below the ephemeral range: a port that is free when checked can otherwise be taken by any outgoing
    connection (the devstack's own, another test's) before the server binds it ("That port is already
    in use", seen once in CI with web on 38482)."""
    fixed = [8000] + [module.PORT for module in devstack_modules() if hasattr(module, "PORT")]
    top = _ephemeral_low() - max(fixed)
    for offset in random.sample(range(11000, top), 50):  # random: parallel test processes
        if all(_free(port + offset) for port in fixed):
            return offset
    raise RuntimeError("no free ports")


@pytest.fixture
def devstack_env(tmp_path):
    env = {**os.environ, "DATABASE_URL": database_url(), "VAR_DIR": str(tmp_path), "PYTHONUNBUFFERED": "1",
           "SECRET_KEY": settings.SECRET_KEY, "FIELD_ENCRYPTION_KEYS": ",".join(settings.FIELD_ENCRYPTION_KEYS),
           "Q_WORKERS": "1", "VENDOR_HOSTS_ALLOW": "127.0.0.1,localhost",
           "EXPENSICO_HOSTS_ALLOW": "127.0.0.1,localhost",
           "STATICFILES_BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    env.pop("PYTEST_XDIST_WORKER", None)
    return env


def started(argv: list[str], *, env: dict, log: Path) -> subprocess.Popen:
    with open(log, "wb") as out:
        # A session of its own, as a terminal gives `make run`: the test's group is never signalled.
        return subprocess.Popen(argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)


def wait_until_up(proc: subprocess.Popen, log: Path, *, children: int) -> dict:
    """Until the banner is printed and the qcluster has its workers: returns the process tree."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text(errors="replace")[-3000:]
        seen = tree(proc.pid)
        if "expensico-sync is running" in log.read_text(errors="replace") and len(seen) >= children:
            return seen
        time.sleep(0.5)
    raise AssertionError(f"the devstack did not come up: {log.read_text(errors='replace')[-3000:]}")


def assert_nothing_left(seen: dict, log: Path) -> None:
    deadline = time.monotonic() + 10  # SIGKILLed grandchildren may need a moment to be torn down
    while (left := survivors(seen)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left, (left, log.read_text(errors="replace")[-3000:])


# web, the simulator, 6 sandboxes, the mail catcher, and the qcluster as 5: main, sentinel, monitor,
# pusher, 1 worker.
CHILDREN = 1 + 1 + 6 + 1 + 5
GROUPS = 1 + 1 + 6 + 1 + 1


def kill_all(root: int, seen: dict) -> None:
    """A failed test must not leave its devstack running either."""
    for pgid in {stat[1] for stat in {**seen, **tree(root)}.values()} - {os.getpgid(0)}:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@pytest.mark.parametrize("signalled", ["timeout", "make"])
def test_sigterm_to_make_run_leaves_no_process_behind(signalled, devstack_env, tmp_path):
    """`timeout 600 make run` expiring: timeout sends SIGTERM to make and to its whole process group
    (the devstack included). `kill <make>`: only make is signalled, and forwards it to its child."""
    offset, log = free_port_offset(), tmp_path / "make.log"
    make = ["make", "--no-print-directory", "-o", "install", "run", f"BIN={Path(sys.executable).parent}",
            f"PORT={8000 + offset}", f"DEVSTACK_ARGS=--no-seed --port-offset {offset} --stop-grace 10"]
    proc = started(["timeout", "600", *make] if signalled == "timeout" else make, env=devstack_env, log=log)
    seen = {}
    try:
        # (timeout,) make, the devstack (make execs it: no shell in between) and its children.
        seen = wait_until_up(proc, log, children=(3 if signalled == "timeout" else 2) + CHILDREN)
        assert len({stat[1] for stat in seen.values()}) == 1 + GROUPS, "each child in a process group of its own"
        proc.send_signal(signal.SIGTERM)  # what `timeout` does when it expires, or a plain `kill`
        proc.wait(timeout=60)
        assert_nothing_left(seen, log)
    finally:
        kill_all(proc.pid, seen)


def test_a_qcluster_told_to_stop_stops_by_itself_and_takes_its_workers(devstack_env):
    """SIGTERM to a qcluster's whole group hangs its main process (its sentinel dies holding the stop
    event's lock), so the signal goes to the qcluster alone; SIGKILL stays the last resort."""
    children = Children()
    proc = children.start("worker", [sys.executable, "manage.py", "qcluster"], env=devstack_env)
    try:
        deadline = time.monotonic() + 120
        while len(tree(proc.pid)) < 5 and time.monotonic() < deadline:  # main, sentinel, monitor, pusher, worker
            time.sleep(0.2)
        seen = tree(proc.pid)
        assert len(seen) >= 5
        assert children.stop(signum=signal.SIGTERM, grace=30) == [], "it had to be killed"
        assert not survivors(seen)
    finally:
        kill_all(proc.pid, {})
