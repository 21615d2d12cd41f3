"""`bench/export.py --system NAME` works for every registered system: a tiny run per system
(PostgreSQL, real worker processes, the sandbox as a process) must export everything with the
vendor holding each reference exactly once. Only the exit status and the check line are asserted;
the figures themselves are for the README, never asserted here."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from connectors.base import registered_systems

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="the benchmark runs on its own PostgreSQL database (CI runs this with DATABASE_URL set)")


def test_the_export_benchmark_runs_against_every_system():
    # One test, systems in turn: the runs share one scratch database, re-created per run.
    for system in registered_systems():
        proc = subprocess.run(
            [sys.executable, "bench/export.py", "--system", system, "--expenses", "6", "--naive-expenses", "2",
             "--workers", "2", "--latency-ms", "0", "--database", "expensico_benchsmoke"],
            cwd=ROOT, capture_output=True, text=True, timeout=300,
            env={k: v for k, v in os.environ.items() if k != "DATABASE_URL"})
        assert proc.returncode == 0, f"{system}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        assert "engine 0 duplicates, 0 missing; naive 0 duplicates, 0 missing" in proc.stdout, proc.stdout
