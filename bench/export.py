"""Export throughput against a vendor sandbox, measured against the physical bound.

    python bench/export.py --expenses 1000 --latency-ms 20 --rate 100 --workers 4
    python bench/export.py --system bc      # any key in connectors/registry.py, or an alias
    python bench/export.py --scale-out --expenses 1000 --latency-ms 20     # 4 workers vs 1, no rate limit

What runs: a dedicated PostgreSQL database (default `expensico_bench`, re-created from a migrated
template on every run), the system's sandbox as a separate process (the server `manage.py sandbox
NAME` runs, with the given latency; `bench/systems.py` says what else each system needs), and W
worker *processes* each looping the engine's own `records_work_due` (claim with FOR UPDATE SKIP
LOCKED, resolve, push, record) until every record is settled. Expenses enter through the source
mirror, as intake would create them.

The request budget R is the vendor's documented limit where there is one (Business Central 20/s,
Xledger 20 per 5 s, Moon ERP 60/min inferred), enforced by the sandbox and kept by our client;
otherwise `--rate` through the shared sandbox limiter. A vendor needing k calls per expense at
best (Moon: create, then approve) has the bound min(R/k, W/(k*L)).

Printed: wall time, remote calls per exported expense (from our call log, every HTTP request incl.
429s), throughput, the bound, the ratio, the vendor-side check (each reference held exactly once,
by the vendor package's own definition), and, in the same run, the naive baseline (one process,
one expense at a time: find_by_reference, then create) with the speed-up. Everything binds to
127.0.0.1 and stops itself.
"""

import argparse
import cProfile
import json
import os
import socket
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.cpu import BackendSampler, process_cpu  # noqa: E402
from bench.systems import ALIASES, SYSTEMS, system_for  # noqa: E402

PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
# The sandboxes listen on loopback; this process and every worker it starts send credentials there.
os.environ.setdefault("VENDOR_HOSTS_ALLOW", "127.0.0.1,localhost")


# --- database -----------------------------------------------------------------------------------

def _admin_sql(statements: list[str]) -> None:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        for sql in statements:
            conn.execute(sql)


def _exists(name: str) -> bool:
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def database_prepare(name: str) -> str:
    """A fresh copy of a migrated template: every run starts from the same empty state."""
    template = f"{name}_tpl"
    env = {**os.environ, "DATABASE_URL": f"{PG}/{template}", "Q_SYNC": "false"}
    if not _exists(template):
        _admin_sql([f'CREATE DATABASE "{template}"'])
    subprocess.run([sys.executable, "manage.py", "migrate", "--verbosity", "0"], cwd=ROOT, env=env, check=True)
    _admin_sql([f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname IN ('{name}', '{template}')"
                " AND pid <> pg_backend_pid()",
                f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}" TEMPLATE "{template}"'])
    return f"{PG}/{name}"


def django_setup(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("Q_SYNC", "false")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "expensico_sync.settings")
    import django

    django.setup()


# --- sandbox ------------------------------------------------------------------------------------

def free_port() -> int:
    """A free loopback port; within BENCH_PORTS ("9700-9799") where a shared machine assigns ranges."""
    low, _, high = os.environ.get("BENCH_PORTS", "0-0").partition("-")
    for port in range(int(low), int(high) + 1) if int(low) else [0]:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise RuntimeError(f"no free port in BENCH_PORTS={os.environ['BENCH_PORTS']}")


class SandboxProcess:
    """The system's sandbox in its own process, with two bench-only controls added there:
    `bench-info` (base URL, CA bundle, account to map) and `bench-held` (documents held per
    reference, as the vendor package's testkit counts them)."""

    def __init__(self, *, system: str, latency_ms: int, log_dir: Path):
        self.system = system
        self.port = free_port()
        argv = [sys.executable, __file__, "--sandbox", "--system", system, "--port", str(self.port),
                "--latency-ms", str(latency_ms)]
        self.log = open(log_dir / f"bench-sandbox-{self.port}.log", "wb")
        self.proc = subprocess.Popen(argv, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT,
                                     env={**os.environ, "Q_SYNC": "false"})
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            self.stop()
            raise RuntimeError("the sandbox did not start")
        self.info = self.control("bench-info")

    @property
    def base_url(self) -> str:
        return self.info["base_url"]

    def control(self, action: str, body: dict | None = None):
        """Loopback control calls; the BC sandbox's certificate is self-signed and only the
        connector under test is made to verify it (with the CA bundle)."""
        import requests
        import urllib3

        urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
        scheme = system_for(self.system).control_scheme
        url = f"{scheme}://127.0.0.1:{self.port}/__sandbox__/{action}/"
        if body is None:
            resp = requests.get(url, timeout=60, verify=False)
        else:
            resp = requests.post(url, json=body, timeout=300, verify=False)
        resp.raise_for_status()
        return resp.json() if resp.content else None

    def limits(self, *, on: bool, rate: int) -> None:
        self.control("bench-limits", {"on": on, "rate": rate})

    def held(self, refs: list[str]) -> dict[str, int]:
        return self.control("bench-held", {"refs": refs})

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def sandbox_main(args) -> int:
    """The sandbox `manage.py sandbox NAME` serves, plus the bench's controls (see SandboxProcess)."""
    django_setup(os.environ.get("DATABASE_URL", "sqlite:///:memory:"))
    import signal

    from connectors.sandboxing.server import Response

    system = system_for(args.system)
    server = system.make_server(port=args.port)
    system.prepare(server)
    app = server.app
    app.latency_ms = args.latency_ms
    vendor_control = app.control

    def control(req):
        action = req.path.rstrip("/").rsplit("/", 1)[-1]
        if action == "bench-info":
            return Response(200, {"base_url": server.base_url, "ca_bundle": getattr(app, "ca_bundle", None),
                                  "endpoint_path": getattr(app, "endpoint_path", None),
                                  "travel_account": system.travel_account(server)})
        if action == "bench-held":
            return Response(200, {ref: len(system.kit.held(server, ref)) for ref in req.json()["refs"]})
        if action == "bench-limits":
            body = req.json()
            system.vendor_limits(server, body["on"])
            with app.lock:
                app.rate_limit = {"per_second": body["rate"], "retry_after": None} if body["on"] and body["rate"] \
                    else None
                app._window = (0, 0)
            return Response(204)
        return vendor_control(req)

    app.control = control
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


# --- organisation, connection, expenses -----------------------------------------------------------

def books_connect(sandbox: SandboxProcess, *, slug: str, client_rate: int):
    """A live organisation with a connection set up through the vendor's testkit (the contract
    suite's path: create, check, fetch the chart, configure) and the bench's categories mapped."""
    from types import SimpleNamespace

    from expensico_sync.core.services import organization_create
    from mappings.models import CategoryMapping

    system = system_for(sandbox.system)
    org = organization_create(slug=slug, name=f"Bench {slug}", base_currency="SAR", country="SA", mode="live")
    sandbox.limits(on=False, rate=0)  # set-up calls are not what we measure
    info = sandbox.info
    server = SimpleNamespace(base_url=info["base_url"], app=SimpleNamespace(
        ca_bundle=info["ca_bundle"], endpoint_path=info["endpoint_path"]))
    conn = system.kit.connect(server, org)
    conn.settings = {**conn.settings, **system.settings, "rate_limit_per_second": client_rate, "read_timeout": 30}
    conn.save(update_fields=["settings"])
    for code in ("TRAVEL", "MEALS"):
        CategoryMapping.objects.create(connection=conn, category_code=code, account=info["travel_account"])
    return org, conn


def expense_data(eid: str, amount: Decimal) -> dict:
    return {"id": eid, "version": 1, "type": "expense", "date": "2026-11-02", "merchant": f"Careem {eid}",
            "description": "Taxi to client", "description_ar": None,
            "category": {"id": "cat_travel", "code": "TRAVEL", "name": "Travel"},
            "funding_source": "reimbursable", "card": None, "amount": f"{amount:.2f}", "currency": "SAR",
            "exchange_rate": None, "tax": None, "dimensions": {}, "details": {}, "receipts": [], "custom_fields": {}}


def expenses_create(org, *, prefix: str, n: int, per_report: int = 100) -> list[str]:
    """n approved expenses through the source mirror (records are made in the same transaction)."""
    from django.db import transaction

    from expensico_sync.source.mirror import event_apply
    from expensico_sync.source.schemas import validate_event

    refs = []
    for start in range(0, n, per_report):
        batch = [expense_data(f"{prefix}_{i:05d}", Decimal(10 + i % 500) + Decimal("0.25"))
                 for i in range(start, min(n, start + per_report))]
        report = {"id": f"rpt_{prefix}_{start}", "number": f"R-{start}", "title": "Bench",
                  "employee": {"id": "emp_1", "name": "Noura", "email": "n@example.com"},
                  "approved_at": "2026-11-03T10:00:00Z", "approved_by": {"id": "mgr_1", "name": "Omar"},
                  "currency": "SAR", "expenses": batch}
        event = validate_event({"type": "expense_report.approved", "created_at": "2026-11-03T10:00:00Z",
                                "data": {"report": report}})
        with transaction.atomic():
            event_apply(organization=org, event_type=event["type"], data=event["data"])
        refs += [f"EXPENSICO-{e['id']}-v1" for e in batch]
    return refs


# --- the engine run -------------------------------------------------------------------------------

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
    procs = [subprocess.Popen([sys.executable, __file__, "--worker", "--database-url", database_url,
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


def row(label: str, run: dict, n: int, bound: float | None) -> str:
    throughput = run["exported"] / run["wall"] if run["wall"] else 0.0
    ratio = f"{throughput / bound:5.2f}" if bound else "   - "
    bound_s = f"{bound:7.1f}" if bound else "      -"
    return (f"{label:<26} {n:>6} {run['wall']:>8.2f} {run['calls'] / max(1, run['exported']):>10.3f} "
            f"{throughput:>10.1f} {bound_s} {ratio}")


HEADER = (f"{'run':<26} {'exp.':>6} {'wall s':>8} {'calls/exp':>10} {'exp/s':>10} {'bound':>7} {'ratio':>5}")


def cpu_line(run: dict) -> str:
    """The bound the physical one leaves out: CPU per exported expense, per component (the workers
    from "go" on, this database's PostgreSQL backends, the sandbox), SQL statements per record,
    and the throughput the machine's cores would cap at."""
    n = max(1, run["exported"])
    per = {name: seconds / n for name, seconds in run["cpu"].items()}
    total, cores = sum(per.values()), os.cpu_count() or 1
    parts = " · ".join(f"{name} {ms * 1000:.1f} ms" for name, ms in per.items())
    cap = f"; {cores} cores cap throughput at about {cores / total:.0f}/s" if total else ""
    return (f"CPU per exported expense: {parts} (total {total * 1000:.1f} ms); "
            f"SQL statements per record (workers) {run['sql'] / n:.1f}{cap}")


def cpu_cap(run: dict) -> float:
    """The throughput the machine's cores cap this run at: cores / CPU per exported expense."""
    total = sum(run["cpu"].values()) / max(1, run["exported"])
    return (os.cpu_count() or 1) / total if total else float("inf")


def batched_bound(system, *, rate: float, workers: int, latency_ms: int, run: dict) -> tuple[float, str]:
    """The bound when many documents go in one call (the connector's `push_many_limit`): k is the
    fewest calls per expense divided by the documents one call takes, so R/k and W/(k*L) are far
    away and the cores bind first: min(R/k, W/(k*L), cores / CPU per expense), with its formula."""
    from connectors.base import connector_class

    per_call = connector_class(system.name).push_many_limit
    if per_call <= 1:
        k = system.min_calls
        return bound_for(rate, workers, latency_ms, k), (f"R/{k}, W/({k}L)" if k > 1 else "R, W/L")
    k = system.min_calls / per_call
    by_requests, cap = bound_for(rate, workers, latency_ms, k), cpu_cap(run)
    by_rate = rate / k if rate else float("inf")
    by_latency = workers / (k * latency_ms / 1000) if latency_ms else float("inf")
    return (min(by_requests, cap),
            f"R/k = {by_rate:.0f}/s, W/(kL) = {by_latency:.0f}/s, "
            f"CPU cap {cap:.0f}/s; k = {system.min_calls}/{per_call} = {k:.3f}: {per_call} documents per call")


def bound_for(rate: float, workers: int, latency_ms: int, calls: float = 1) -> float:
    """min(R/k, W/(k*L)): the request budget and the latency of k calls, whichever binds first."""
    by_latency = workers / (calls * latency_ms / 1000) if latency_ms else float("inf")
    return min(rate / calls, by_latency) if rate else by_latency


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--system", default=next(iter(SYSTEMS)), choices=sorted([*SYSTEMS, *ALIASES]))
    parser.add_argument("--expenses", type=int, help="default: 1,000 (Xledger 200, Moon ERP 60: their limits)")
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--rate", type=int, default=100,
                        help="request budget per second for systems with no documented limit (0: none)")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--batch", type=int, default=5, help="records a worker claims at a time")
    parser.add_argument("--naive-expenses", type=int,
                        help="expenses for the sequential baseline (its rate does not depend on N)")
    parser.add_argument("--scale-out", action="store_true", help="4 workers against 1, no rate limit")
    parser.add_argument("--database", default="expensico_bench")
    parser.add_argument("--profile", metavar="DIR",
                        help="each worker writes cProfile stats to DIR/worker-PID.prof (read with pstats or snakeviz)"
                             " and the SQL statements it sent, by kind, to DIR/worker-PID.sql.json")
    # internal: a worker process
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--connection-id", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--go-file", help=argparse.SUPPRESS)
    parser.add_argument("--sandbox", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker_main(args)
    if args.sandbox:
        return sandbox_main(args)

    system = system_for(args.system)
    args.expenses = args.expenses or system.expenses
    args.naive_expenses = args.naive_expenses or system.naive_expenses
    database_url = database_prepare(args.database)
    django_setup(database_url)
    from django.conf import settings

    tmp = Path(settings.VAR_DIR)
    tmp.mkdir(parents=True, exist_ok=True)
    sandbox = SandboxProcess(system=system.name, latency_ms=args.latency_ms, log_dir=tmp)
    try:
        return (scale_out if args.scale_out else throughput)(args, system, database_url, sandbox, tmp)
    finally:
        sandbox.stop()


def throughput(args, system, database_url, sandbox, tmp) -> int:
    stamp = int(time.time())
    budget = system.limit or args.rate
    # The sandbox enforces the vendor's own limit where it has one; otherwise the shared limiter
    # plays the budget. Our own limiter stays at it: a 429 costs a call and a wait.
    sandbox_rate = 0 if system.sandbox_enforces_limit else int(budget or 0)
    client_rate = max(1, int(budget)) if budget else 100_000

    org, conn = books_connect(sandbox, slug=f"bench-{stamp}", client_rate=client_rate)
    refs = expenses_create(org, prefix=f"b{stamp}", n=args.expenses)
    sandbox.limits(on=True, rate=sandbox_rate)
    engine = engine_run(database_url=database_url, conn=conn, workers=args.workers, batch=args.batch, tmp=tmp,
                        sandbox_pid=sandbox.proc.pid, profile=args.profile or "")
    dup, missing = vendor_check(sandbox, refs)

    naive_org, naive_conn = books_connect(sandbox, slug=f"naive-{stamp}", client_rate=client_rate)
    naive_refs = expenses_create(naive_org, prefix=f"n{stamp}", n=args.naive_expenses)
    sandbox.limits(on=True, rate=sandbox_rate)
    naive = naive_run(conn=naive_conn)
    ndup, nmissing = vendor_check(sandbox, naive_refs)

    bound, formula = batched_bound(system, rate=budget, workers=args.workers, latency_ms=args.latency_ms,
                                   run=engine)
    limit = f"{budget:g} req/s ({system.limit_note})" if system.limit else (f"{budget}/s" if budget else "none")
    print(f"\nexport benchmark: {system.label} sandbox, L={args.latency_ms} ms, R={limit}, "
          f"W={args.workers} worker processes, batch {args.batch}, PostgreSQL\n")
    print(HEADER)
    print(row(f"engine (W={args.workers})", engine, args.expenses, bound))
    print(row("naive (sequential)", naive, args.naive_expenses, None))
    e_tp, n_tp = engine["exported"] / engine["wall"], naive["exported"] / naive["wall"]
    print(f"\nbound min({formula}) = {bound:.1f}/s; engine at {e_tp / bound:.2f} of it; "
          f"speed-up over naive {e_tp / n_tp:.1f}x")
    print(f"vendor check: engine {dup} duplicates, {missing} missing; naive {ndup} duplicates, {nmissing} missing")
    print(f"engine records: {engine['statuses']}; workers: {engine['workers']}")
    print(cpu_line(engine))
    return 0 if not (dup or missing or ndup or nmissing) and engine["exported"] == args.expenses else 1


def scale_out(args, system, database_url, sandbox, tmp) -> int:
    """Vendor limits off: what the engine itself does with more workers."""
    stamp = int(time.time())
    results = {}
    for workers in (1, 4):
        org, conn = books_connect(sandbox, slug=f"scale{workers}-{stamp}", client_rate=100_000)
        refs = expenses_create(org, prefix=f"s{workers}_{stamp}", n=args.expenses)
        run = engine_run(database_url=database_url, conn=conn, workers=workers, batch=args.batch, tmp=tmp,
                         sandbox_pid=sandbox.proc.pid)
        run["check"] = vendor_check(sandbox, refs)
        results[workers] = run
    print(f"\nscale-out: {system.label} sandbox, L={args.latency_ms} ms, no rate limit, batch {args.batch}, "
          "PostgreSQL\n")
    print(HEADER)
    for workers, run in results.items():
        print(row(f"engine (W={workers})", run, args.expenses,
                  bound_for(0, workers, args.latency_ms, system.min_calls)))
    tp = {w: r["exported"] / r["wall"] for w, r in results.items()}
    print(f"\n4 workers vs 1: {tp[4] / tp[1]:.2f}x")
    for workers, run in results.items():
        print(f"W={workers}: {cpu_line(run)}")
        print(f"W={workers}: vendor check (duplicates, missing) = {run['check']}; records {run['statuses']}")
    return 0 if all(r["check"] == (0, 0) for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
