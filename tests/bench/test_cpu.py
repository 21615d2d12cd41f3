"""bench/cpu.py: PostgreSQL backends are found by database name whatever the cluster's prefix in
the process title, and a backend's CPU counts even when it exits before the run ends."""

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench.cpu import BackendSampler, backend_pattern, process_cpu  # noqa: E402


@pytest.mark.parametrize("title, matches", [
    ("postgres: 15/main: postgres expensico_bench 127.0.0.1(40312) idle", True),
    ("postgres: postgres expensico_bench 127.0.0.1(40312) SELECT", True),
    ("postgres: 15/main: app expensico_bench [local] idle in transaction", True),
    ("postgres: 15/main: postgres expensico_bench_tpl 127.0.0.1(40312) idle", False),
    ("postgres: 15/main: checkpointer ", False),
    ("python bench/export.py --database expensico_bench ", False),
])
def test_backends_are_found_by_database_whatever_the_cluster_prefix(title, matches):
    assert bool(backend_pattern("expensico_bench").match(title)) is matches


def test_this_process_cpu_grows_with_work():
    before = process_cpu(os.getpid())
    sum(i * i for i in range(2_000_000))
    assert process_cpu(os.getpid()) > before
    assert process_cpu(2**22 + 7) == 0.0  # no such process


@pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="PostgreSQL backends")
def test_a_backend_that_worked_and_exited_is_counted():
    import psycopg

    url = os.environ["DATABASE_URL"]
    database = url.rsplit("/", 1)[1].split("?")[0]
    sampler = BackendSampler(database, interval=0.02).start()
    with psycopg.connect(url) as conn:  # a new backend, gone before stop()
        conn.execute("SELECT sum(g::bigint * g) FROM generate_series(1, 3000000) g").fetchone()
    assert sampler.stop() > 0.05
