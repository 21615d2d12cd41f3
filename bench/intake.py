"""Intake throughput: signed 100-expense reports posted over real HTTP to a running server.

    # against a server using the same DATABASE_URL (the org is created if needed):
    python bench/intake.py --base-url http://127.0.0.1:8000 --org bench --reports 200 --threads 4
    # or with an explicit URL and secret (no database access from here):
    python bench/intake.py --url http://host/api/v1/expensico/webhooks/acme/ --secret whsec_… --reports 200

Prints expenses/second and p50/p95 latency per delivery. Every run uses fresh ids (the seed
defaults to the clock), so nothing is a duplicate unless --seed is repeated.

On a shared machine the wall-clock figure depends on what else runs; `--cpu-match` (repeatable,
a substring of the server's command lines, e.g. "gunicorn" and "postgres: postgres mydb ") also
prints the CPU the server side spent, and the expenses per CPU-second that implies.
"""

import argparse
import os
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# Everything this bench talks to listens on loopback.
os.environ.setdefault("VENDOR_HOSTS_ALLOW", "127.0.0.1,localhost")


def org_secret(slug: str, connections: int = 0) -> str:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "expensico_sync.settings")
    import django

    django.setup()
    from connectors.models import Connection
    from expensico_sync.core.models import Organization
    from expensico_sync.core.services import organization_create

    org = Organization.objects.filter(slug=slug).first() or organization_create(
        slug=slug, name=f"Bench {slug}", base_currency="SAR", country="SA")
    for i in range(connections):
        # Active, so each expense gets its export record inside the delivery's transaction; the
        # system is one no worker knows, and none needs to run: intake only writes and rings.
        Connection.objects.get_or_create(organization=org, name=f"Bench books {i + 1}", defaults={
            "system": "bench", "base_url": "http://127.0.0.1:9/", "active": True})
    return org.webhook_secret


def cpu_seconds(patterns: list[str]) -> float:
    """utime+stime of every process whose command line contains one of the patterns (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            if any(p in cmdline for p in patterns) and int(pid) != os.getpid():
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return total / ticks


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base-url", default="http://127.0.0.1:8000")
    parser.add_argument("--org", default="bench", help="organisation slug (created through Django if missing)")
    parser.add_argument("--url", default="", help="full intake URL (skips the Django lookup with --secret)")
    parser.add_argument("--secret", default="")
    parser.add_argument("--reports", type=int, default=200)
    parser.add_argument("--expenses", type=int, default=100, help="expenses per report")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--connections", type=int, default=0,
                        help="active connections the organisation has (each expense then gets an export record "
                             "per connection in the delivery's transaction); use a fresh --org per value")
    parser.add_argument("--warmup", type=int, default=8, help="reports sent first and not measured")
    parser.add_argument("--cpu-match", action="append", default=[],
                        help="substring of server process command lines whose CPU time to report")
    args = parser.parse_args(argv)

    from expensico_sync.source.simulator.generator import generate
    from expensico_sync.source.simulator.sender import encode, sign

    url = args.url or f"{args.base_url.rstrip('/')}/api/v1/expensico/webhooks/{args.org}/"
    secret = args.secret or org_secret(args.org, args.connections)
    seed = args.seed if args.seed is not None else int(time.time() * 1000) % 2_000_000_000
    ds = generate(seed=seed, scale=args.reports + args.warmup, expenses_per_report=args.expenses)
    # Only the approvals carry expenses; pre-encode so the client measures the server, not json.dumps.
    bodies = [(wid, encode(body)) for wid, kind, body in ds.events
              if kind == "expense_report.approved" and len(body["data"]["report"]["expenses"]) == args.expenses]
    warm, timed = bodies[:args.warmup], bodies[args.warmup:args.warmup + args.reports]
    local = threading.local()

    def post(item):
        wid, text = item
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        headers = sign(secret=secret, webhook_id=wid, body=text)  # signed just before sending (±5 min)
        start = time.perf_counter()
        response = session.post(url, data=text.encode(), headers=headers, timeout=60)
        return time.perf_counter() - start, response.status_code

    with ThreadPoolExecutor(args.threads) as pool:
        list(pool.map(post, warm))
        cpu_before = cpu_seconds(args.cpu_match) if args.cpu_match else 0.0
        load_before = os.getloadavg()[0]
        started = time.perf_counter()
        results = list(pool.map(post, timed))
        wall = time.perf_counter() - started
        cpu = cpu_seconds(args.cpu_match) - cpu_before if args.cpu_match else 0.0

    latencies = sorted(r[0] for r in results)
    codes = {}
    for _, code in results:
        codes[code] = codes.get(code, 0) + 1
    accepted = codes.get(202, 0)
    q = statistics.quantiles(latencies, n=100)
    print(f"url={url} threads={args.threads} reports={len(timed)} expenses/report={args.expenses} seed={seed}")
    print(f"status codes: {codes}")
    print(f"throughput: {accepted * args.expenses / wall:,.0f} expenses/s "
          f"({accepted / wall:.1f} deliveries/s over {wall:.2f} s)")
    print(f"latency per delivery: p50 {q[49] * 1000:.0f} ms, p95 {q[94] * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms")
    print(f"load average (1 min) before/after: {load_before:.2f} / {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    if args.cpu_match and accepted:
        print(f"server CPU: {cpu:.2f} s = {cpu / accepted * 1000:.0f} ms per delivery, "
              f"{accepted * args.expenses / cpu:,.0f} expenses per CPU-second")
    return 0 if accepted == len(timed) else 1


if __name__ == "__main__":
    raise SystemExit(main())
