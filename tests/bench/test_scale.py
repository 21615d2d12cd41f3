"""`bench/scale.py` builds its data set and measures pages end to end on a tiny scale. Only the
exit status and the output's shape are asserted; the figures are for the README, never asserted."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="the benchmark builds its own PostgreSQL database (CI runs this with DATABASE_URL set)")


def test_the_scale_benchmark_builds_and_measures():
    proc = subprocess.run(
        [sys.executable, "bench/scale.py", "--rows", "2000", "--repeat", "1", "--warmup", "0",
         # Its own name per run: database_create ends every session of that name, so two runs side by
         # side (two worktrees, two CI jobs on one server) would cut each other's migrate.
         "--database", f"expensico_scale_smoke_{os.getpid()}", "--background", "--only", "dashboard", "exportrecord list",
         "api exports first", "close months", "api reconciliations"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={k: v for k, v in os.environ.items() if k != "DATABASE_URL"})
    assert proc.returncode == 0, f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    assert "superuser dashboard" in proc.stdout and "finance   exports.exportrecord list" in proc.stdout
    assert "pages measured" in proc.stdout and "background gaps refresh" in proc.stdout
    # The month's tables are filled and their pages measured too.
    assert "month tables filled" in proc.stdout and "finance   close months" in proc.stdout
    assert "superuser api reconciliations" in proc.stdout
