"""Snapshot and gap detection over 1,000 mirrored expenses; prints BENCH lines. Not collected by
default: `.venv/bin/python -m pytest tests/mappings/bench_gaps.py -q -s` (add DATABASE_URL for Postgres)."""

import time

from django.db import connection as db
from django.test.utils import CaptureQueriesContext

from mappings.selectors import mapping_gaps, mapping_snapshot
from tests.mappings.factories import make_category_mapping
from tests.source.factories import expense_payload, make_report, report_payload


def test_bench_gaps(org, connection):
    for r in range(10):
        make_report(org, report_payload(1000 + r, expenses=[expense_payload(
            10000 + r * 100 + i, category={"id": f"c{i % 12}", "code": f"C{i % 12}", "name": f"Cat {i % 12}"})
            for i in range(100)]))
    for i in range(6):
        make_category_mapping(connection, f"C{i}")
    with CaptureQueriesContext(db) as queries:
        started = time.perf_counter()
        mapping_snapshot(connection)
        elapsed = time.perf_counter() - started
    print(f"\nBENCH snapshot: {len(queries)} queries, {elapsed * 1000:.1f} ms")
    with CaptureQueriesContext(db) as queries:
        started = time.perf_counter()
        rows = mapping_gaps(connection)
        elapsed = time.perf_counter() - started
    blocked = sum(r["expenses"] for r in rows if r["kind"] == "category")
    print(f"BENCH gaps over 1000 expenses: {elapsed * 1000:.0f} ms, {len(queries)} queries, {len(rows)} gap rows, "
          f"{blocked} expenses blocked by categories")
    assert blocked == 480  # C6..C11 are unmapped: 48 of every 100 expenses
