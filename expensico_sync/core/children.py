"""Child processes that stop together, whatever stops their parent.

Each child runs in a process group of its own, so a signal aimed at the parent's whole group (Ctrl-C,
`timeout`, `kill -- -PGID`) reaches only the parent, which then stops the children in order: the
signal goes to each child itself, which knows how to stop its own children; after a bounded wait,
SIGKILL goes to every group that still has a member, grandchildren included.

Why not signal each group as a whole: SIGTERM to a qcluster's group kills its sentinel while the
sentinel may hold the lock of the cluster's stop event, and the main process, whose SIGTERM handler
sets that event, then blocks forever and ignores every further SIGTERM. That is how `timeout make
run` left a qcluster behind: `timeout` signals its whole process group, which held the cluster.
"""

import os
import signal
import subprocess
import time

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Stopped(BaseException):
    """Raised in the main thread by a stop signal; a BaseException so `except Exception` can't eat it."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _raise_stopped(signum, frame):
    # Only the first signal unwinds. Repeats are common (`timeout` signals make and its group, make
    # forwards it again) and must not abort the cleanup the first one started.
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
    raise Stopped(signum)


def stop_signals_raise() -> None:
    """SIGTERM and SIGHUP behave like Ctrl-C: the code unwinds and its `finally` blocks run."""
    for sig in STOP_SIGNALS:
        signal.signal(sig, _raise_stopped)


def _signal_group(pgid: int, sig: int) -> bool:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return False
    return True


class Children:
    def __init__(self):
        self.procs: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, argv: list[str], *, env: dict) -> subprocess.Popen:
        # stdin from /dev/null: a background group reading the terminal would be stopped by SIGTTIN.
        proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, process_group=0)
        self.procs.append((name, proc))
        return proc

    def exited(self) -> list[str]:
        return [name for name, proc in self.procs if proc.poll() is not None]

    def _occupied(self) -> list[int]:
        """Process groups with a member left (the leader may have exited before its children)."""
        for _, proc in self.procs:
            proc.poll()  # reaps an exited leader, so it no longer counts as a member
        return [proc.pid for _, proc in self.procs if _signal_group(proc.pid, 0)]

    def stop(self, *, signum: int = signal.SIGINT, grace: float = 10.0) -> list[str]:
        """Forward `signum` to every child, wait up to `grace` seconds for their groups to empty,
        SIGKILL the rest (named in the answer). Stop signals meanwhile are ignored."""
        previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in STOP_SIGNALS}
        try:
            for _, proc in self.procs:
                if proc.poll() is None:
                    proc.send_signal(signum)
            for pgid in self._occupied():
                _signal_group(pgid, signal.SIGCONT)  # a stopped process acts on a signal once continued
            deadline = time.monotonic() + grace
            while self._occupied() and time.monotonic() < deadline:
                time.sleep(0.1)
            killed = self._occupied()
            for pgid in killed:
                _signal_group(pgid, signal.SIGKILL)
            for _, proc in self.procs:
                proc.wait()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return [name for name, proc in self.procs if proc.pid in killed]
