"""The export benchmark's runs: W worker processes looping the engine's own `records_work_due`
(`bench/export.py --worker` is one), the naive sequential baseline, and the vendor-side check."""

import cProfile
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bench.cpu import BackendSampler, process_cpu
from bench.database import ROOT, django_setup
from bench.sandbox_process import EXPORT, SandboxProcess

UNSETTLED = ("pending", "retry", "in_progress", "outcome_unknown")


def worker_main(args) -> int:
    """One worker process: the engine's claim loop until this connection has nothing unsettled.
    Its last line is JSON: what it did, its own CPU from "go" to the end (start-up excluded) and
    the SQL statements it sent."""
    django_setup(args.database_url)
    from django.db import connection

    from exports.models import ExportRecord
    from exports.services.worker import records_work_due

    statements = 0
    kinds: dict[str, int] = {}     # with --profile: which statements (their first 160 characters)

    def count(execute, sql, params, many, context):
        nonlocal statements
        statements += 1
        if args.profile:
            kinds[sql[:160]] = kinds.get(sql[:160], 0) + 1
        return execute(sql, params, many, context)

    print("ready", flush=True)
    go = Path(args.go_file)
    while not go.exists():
        time.sleep(0.001)
    cpu0 = time.process_time()
    totals: dict[str, int] = {}
    profiler = cProfile.Profile(time.process_time) if args.profile else None  # CPU, not wall
    if profiler:
        profiler.enable()
    with connection.execute_wrapper(count):
        while True:
            counts = records_work_due(limit=args.batch)
            for k, v in counts.items():
                totals[k] = totals.get(k, 0) + v
            if not counts:
                if not ExportRecord.objects.filter(connection_id=args.connection_id, status__in=UNSETTLED).exists():
                    break
                time.sleep(0.005)
    if profiler:
        profiler.disable()
        profiler.dump_stats(Path(args.profile) / f"worker-{os.getpid()}.prof")
        (Path(args.profile) / f"worker-{os.getpid()}.sql.json").write_text(
            json.dumps(dict(sorted(kinds.items(), key=lambda kv: -kv[1])), indent=1))
    print(json.dumps({"did": totals, "cpu": time.process_time() - cpu0, "sql": statements}), flush=True)
    return 0


def engine_run(*, database_url: str, conn, workers: int, batch: int, tmp: Path, sandbox_pid: int = 0,
               profile: str = "") -> dict:
    from django.utils import timezone

    from connectors.models import CallLog
    from exports.models import ExportRecord

    go = tmp / f"go-{os.getpid()}-{time.monotonic_ns()}"
    procs = [subprocess.Popen([sys.executable, str(EXPORT), "--worker", "--database-url", database_url,
                               "--connection-id", str(conn.pk), "--batch", str(batch), "--go-file", str(go),
                               *(["--profile", profile] if profile else [])],
                              cwd=ROOT, stdout=subprocess.PIPE, text=True) for _ in range(workers)]
    try:
        for proc in procs:
            if proc.stdout.readline().strip() != "ready":
                raise RuntimeError("a worker failed to start")
        started_at = timezone.now()
        database = database_url.rsplit("/", 1)[1]
        sampler, sandbox0 = BackendSampler(database).start(), process_cpu(sandbox_pid)
        t0 = time.perf_counter()
        go.touch()
        outs = [proc.communicate(timeout=900)[0] for proc in procs]
        wall = time.perf_counter() - t0
        cpu_pg, cpu_sandbox = sampler.stop(), process_cpu(sandbox_pid) - sandbox0
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
        go.unlink(missing_ok=True)
    exported = ExportRecord.objects.filter(connection=conn, status="exported").count()
    calls = CallLog.objects.filter(connection=conn, created_at__gte=started_at).count()
    reports = [json.loads(o.strip().splitlines()[-1]) for o in outs]
    return {"wall": wall, "exported": exported, "calls": calls, "workers": [r["did"] for r in reports],
            "cpu": {"workers": sum(r["cpu"] for r in reports), "PostgreSQL": cpu_pg, "sandbox": cpu_sandbox},
            "sql": sum(r["sql"] for r in reports), "statuses": dict(_status_counts(conn))}


def _status_counts(conn):
    from django.db.models import Count

    from exports.models import ExportRecord

    return ExportRecord.objects.filter(connection=conn).values_list("status").annotate(n=Count("id"))


def naive_run(*, conn) -> dict:
    """The seed's algorithm: one expense at a time, look it up by reference, create it if absent."""
    from django.utils import timezone

    from connectors.base import connector_for
    from connectors.models import CallLog
    from exports.models import ExportRecord
    from exports.services import outcomes
    from exports.services.claiming import record_claim
    from exports.services.resolution import record_resolve

    ids = list(ExportRecord.objects.filter(connection=conn, status="pending").order_by("pk")
               .values_list("pk", flat=True))
    connector = connector_for(conn)
    started_at = timezone.now()
    t0 = time.perf_counter()
    for record_id in ids:
        record = record_claim(record_id=record_id)
        began = timezone.now()
        entry = record_resolve(record=record).entry
        found = connector.find_by_reference([record.reference]).get(record.reference)
        external = found.external_id if found else connector.push(entry, str(record.idempotency_key)).external_id
        outcomes.exported(record, external, began)
    wall = time.perf_counter() - t0
    calls = CallLog.objects.filter(connection=conn, created_at__gte=started_at).count()
    return {"wall": wall, "exported": len(ids), "calls": calls}


def vendor_check(sandbox: SandboxProcess, refs: list[str]) -> tuple[int, int]:
    """(duplicates, missing) as the vendor sees them."""
    held = sandbox.held(refs)
    return sum(max(0, n - 1) for n in held.values()), sum(1 for n in held.values() if n == 0)
