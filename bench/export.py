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
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.database import database_prepare, django_setup  # noqa: E402
from bench.export_figures import HEADER, batched_bound, bound_for, cpu_line, row  # noqa: E402
from bench.export_runs import engine_run, naive_run, vendor_check, worker_main  # noqa: E402
from bench.export_setup import books_connect, expenses_create  # noqa: E402
from bench.sandbox_process import SandboxProcess, sandbox_main  # noqa: E402
from bench.systems import ALIASES, SYSTEMS, system_for  # noqa: E402


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
