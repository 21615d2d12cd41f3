"""`bench/reconcile.py` runs for every vendor that reads back: a tiny month must reconcile to zero
differences. Only the exit status and the check column are asserted; the figures are for the
README, never asserted here."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="the benchmark runs on its own PostgreSQL database (CI runs this with DATABASE_URL set)")


def test_the_reconcile_benchmark_runs_against_every_vendor_that_reads_back():
    proc = subprocess.run([sys.executable, "bench/reconcile.py", "--expenses", "12", "--database",
                           "expensico_benchrecon_smoke"], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={k: v for k, v in os.environ.items() if k != "DATABASE_URL"})
    assert proc.returncode == 0, f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    lines = [line for line in proc.stdout.splitlines() if "zero differences" in line]
    assert lines and all("ok:" in line for line in lines), proc.stdout
