"""Chaos run: ~1,000 simulator expenses through the real path under vendor faults and worker kills.

    python bench/chaos.py                       # 1000 expenses, 10% 5xx, 5% 429, 2% lost responses, 3 kills
    python bench/chaos.py --expenses 300 --kills 2 --seed 7
    python bench/chaos.py --broker redis        # the production shape: Redis broker and cache

The path: signed webhooks (the simulator's sender, ~5% delivered twice) → `manage.py runserver`
(intake) → export records → two `qcluster` processes (ORM or Redis broker, PostgreSQL) → a vendor's connector
(--system: any whose bench profile has `booked`; the first such registry line by default) → its
sandbox, which answers 10% of API requests with a 503, 5% with a 429 (half with
Retry-After) and, for 2%, commits and then drops the connection. The simulator's pull API runs in
a thread here and serves the receipts the workers download. Three times a worker process
group is SIGKILLed mid-run and replaced: on Redis, which has no delivery receipts, the messages
it held are gone and only the sweeper brings those records back. This script also plays the sweeper
(once a second instead of once a minute). Everything is on 127.0.0.1, in a dedicated database
(`expensico_chaos`), and bounded by --timeout.

Printed: duplicates (references the vendor holds more than once), lost (approved, uncancelled
expenses neither booked at the vendor nor parked in review), review items by reason, receipts
fetched, and whether the vendor's
sums equal those of the entries we built and recorded as exported, per currency, to the minor unit.
"""

import argparse
import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.database import database_prepare, django_setup  # noqa: E402
from bench.sandbox_process import free_port  # noqa: E402
from bench.systems import SYSTEMS  # noqa: E402

UNSETTLED = ("pending", "retry", "in_progress", "outcome_unknown")
SIM_TOKEN = "chaos-sim-token"


class RandomFaults:
    """Replaces the sandbox's queued faults with independent draws per API request."""

    def __init__(self, app, *, seed: int, p5xx: float, p429: float, plost: float):
        from connectors.sandboxing.server import Fault

        self.Fault, self.app = Fault, app
        self.r = random.Random(seed)
        self.lock = threading.Lock()
        self.p = (p5xx, p429, plost)
        self.counts = Counter()
        self.enabled = True
        app.take_fault = self.take

    def take(self, req):
        if not self.enabled or not req.path.startswith("/v1/"):
            return None
        with self.lock:
            x = self.r.random()
            p5xx, p429, plost = self.p
            if x < p5xx:
                self.counts["503"] += 1
                return self.Fault(kind="server_error", status=503)
            if x < p5xx + p429:
                self.counts["429"] += 1
                return self.Fault(kind="rate_limit", retry_after="1" if self.r.random() < 0.5 else None)
            if x < p5xx + p429 + plost and req.method == "POST":
                self.counts["lost"] += 1
                return self.Fault(kind="drop_after_commit")
        return None


def simulator_start(*, seed: int, n: int):
    """The simulator's pull API in a thread of this process: it serves the receipts the workers
    download (its dataset is the one the events are picked from)."""
    from expensico_sync.source.simulator.generator import generate
    from expensico_sync.source.simulator.server import serve_in_thread

    return serve_in_thread(lambda url: generate(seed=seed, scale=max(20, n // 3), base_url=url), token=SIM_TOKEN)


def pick_events(ds, *, n: int):
    """Approval and cancellation events of the simulator, until n distinct expenses are approved."""
    chosen, ids = [], set()
    for webhook_id, event_type, body in ds.events:
        if event_type == "expense_report.approved":
            new = {e["id"] for e in body["data"]["report"]["expenses"]} - ids
            if len(ids) >= n and new:
                continue
            ids |= new
            chosen.append((webhook_id, event_type, body))
        elif event_type == "expense.cancelled" and body["data"]["expense_id"] in ids:
            chosen.append((webhook_id, event_type, body))
    return chosen, len(ids)


def expected_state(events) -> dict[str, dict]:
    """eid → {"version", "amount" (gross), "currency", "cancelled"} after applying the events in order."""
    state: dict[str, dict] = {}
    for _webhook_id, event_type, body in events:
        if event_type == "expense_report.approved":
            for e in body["data"]["report"]["expenses"]:
                current = state.get(e["id"])
                if current is None or e["version"] >= current["version"]:
                    # What the books must show is the gross: exclusive VAT is added on top.
                    tax = e.get("tax") or {}
                    gross = Decimal(e["amount"]) + (Decimal(tax["amount"]) if tax and not tax["inclusive"] else 0)
                    state[e["id"]] = {"version": e["version"], "amount": gross,
                                      "currency": e["currency"], "cancelled": bool(current and current["cancelled"])}
        else:
            state[body["data"]["expense_id"]]["cancelled"] = True
    return state


def _fill_gaps(conn) -> None:
    """The demo mapping leaves gaps on purpose; map the rest so faults, not gaps, are what is tested
    (the legacy category OLD stays unmapped: a few review items remain, as in real life)."""
    from mappings.models import CategoryMapping, DimensionMapping

    travel = CategoryMapping.objects.filter(connection=conn).first()
    CategoryMapping.objects.get_or_create(connection=conn, category_code="DRV", funding_source="", expense_type="",
                                          defaults={"account": travel.account, "account_name": travel.account_name})
    known = {(d.dimension_key, d.value) for d in DimensionMapping.objects.filter(connection=conn)}
    for key, values in (("cost_center", ["CC-100", "CC-200", "CC-300"]), ("project", ["PRJ-ALPHA", "PRJ-NEOM"])):
        template = DimensionMapping.objects.filter(connection=conn, dimension_key=key).first()
        for value in values:
            if template and (key, value) not in known:
                DimensionMapping.objects.create(connection=conn, dimension_key=key, value=value,
                                                remote_kind=template.remote_kind, remote_id=template.remote_id,
                                                remote_name=template.remote_name)


def web_start(database_url: str, port: int, log_dir: Path) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": database_url, "Q_SYNC": "false"}
    log = open(log_dir / f"chaos-web-{port}.log", "wb")
    proc = subprocess.Popen([sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload",
                             "--skip-checks"], cwd=HERE.parent, env=env, stdout=log, stderr=subprocess.STDOUT)
    import socket

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the web server did not start")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--expenses", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--p5xx", type=float, default=0.10)
    parser.add_argument("--p429", type=float, default=0.05)
    parser.add_argument("--plost", type=float, default=0.02)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--duplicates", type=float, default=0.05, help="share of webhooks delivered twice")
    parser.add_argument("--timeout", type=int, default=900)
    parser.add_argument("--database", default="expensico_chaos")
    parser.add_argument("--broker", choices=["orm", "redis"], default="orm")
    chaos_systems = [s.name for s in SYSTEMS.values() if s.booked]
    parser.add_argument("--system", choices=chaos_systems, default=chaos_systems[0])
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/15"),
                        help="with --broker redis: broker and cache for this script, the web server and workers")
    args = parser.parse_args(argv)

    if args.broker == "redis":
        # Inherited by the web server and the workers; a queue of this run's own.
        os.environ.update({"REDIS_URL": args.redis_url, "Q_CLUSTER_NAME": f"chaos-{os.getpid()}"})
    else:
        os.environ.pop("REDIS_URL", None)
    database_url = database_prepare(args.database)
    # The simulator serves the pull API and receipts on loopback; the web and worker processes inherit it.
    os.environ.setdefault("EXPENSICO_HOSTS_ALLOW", "127.0.0.1,localhost")
    django_setup(database_url)
    from django.conf import settings

    settings.EXPORTS_BACKOFF_BASE_SECONDS = 1  # this process re-queues through the sweeper
    from expensico_sync.core.services import organization_create
    from expensico_sync.source.simulator.sender import send_webhooks
    from exports.models import ExportRecord, ReviewItem
    from exports.services.sweeper import records_sweep
    from mappings import devstack as mapping_seed
    from mappings.models import HoldRule
    from tests.reliability.workers import Worker

    log_dir = Path(settings.VAR_DIR)
    log_dir.mkdir(parents=True, exist_ok=True)
    system = SYSTEMS[args.system]
    testkit = system.kit
    server = testkit.start_sandbox()
    web = simulator = None
    workers: list[Worker] = []
    try:
        org = organization_create(slug=f"chaos-{int(time.time())}", name="Chaos Co", base_currency="SAR",
                                  country="SA", mode="live")
        simulator = simulator_start(seed=args.seed, n=args.expenses)
        org.expensico_api_base_url, org.expensico_api_token = simulator.base_url, SIM_TOKEN
        org.save()
        conn = testkit.connect(server, org)
        conn.settings = {**conn.settings, "rate_limit_per_second": 200, "read_timeout": 10}
        conn.save(update_fields=["settings"])
        mapping_seed.seed({"organization": org, "connection_id": conn.pk})
        # Hold rules would park the expenses without a receipt for a person: not what is measured.
        HoldRule.objects.filter(connection=conn).delete()
        _fill_gaps(conn)
        faults = RandomFaults(server.app, seed=args.seed, p5xx=args.p5xx, p429=args.p429, plost=args.plost)

        events, n = pick_events(simulator.state.dataset, n=args.expenses)
        expected = expected_state(events)
        # Same queue name as the web server and this script (the database is dedicated to the run).
        env = {"EXPORTS_LEASE_SECONDS": "15", "EXPORTS_BACKOFF_BASE_SECONDS": "1"}
        workers = [Worker(name=f"chaos{i}", workers=2, timeout=30, retry=45, extra_env=env).start() for i in range(2)]
        port = free_port()
        web = web_start(database_url, port, log_dir)
        url = f"http://127.0.0.1:{port}/api/v1/expensico/webhooks/{org.slug}/"
        sent = {}
        sender = threading.Thread(target=lambda: sent.update(send_webhooks(
            events, url=url, secret=org.webhook_secret, seed=args.seed, duplicates=args.duplicates)), daemon=True)
        t0 = time.monotonic()
        sender.start()

        # Kills are spread over the run by settled expense records (exported, held, cancelled…).
        kill_at = [int(len(expected) * (i + 1) / (args.kills + 1)) for i in range(args.kills)]
        kills = 0
        deadline = t0 + args.timeout
        last_sweep = 0.0
        while time.monotonic() < deadline:
            exported = ExportRecord.objects.filter(connection=conn, kind="expense").exclude(
                status__in=UNSETTLED).count()
            if kills < len(kill_at) and exported >= kill_at[kills]:
                victim = workers[kills % len(workers)]
                victim.kill()
                workers[kills % len(workers)] = Worker(name=f"chaos-r{kills}", workers=2, timeout=30, retry=45,
                                                       extra_env=env).start()
                kills += 1
                print(f"  killed a worker at {exported} settled ({time.monotonic() - t0:.0f}s)", flush=True)
            if time.monotonic() - last_sweep > 1:
                records_sweep()
                last_sweep = time.monotonic()
            if not sender.is_alive() and not ExportRecord.objects.filter(
                    connection=conn, status__in=UNSETTLED).exists():
                break
            time.sleep(0.2)
        wall = time.monotonic() - t0
        faults.enabled = False
        timed_out = time.monotonic() >= deadline
        return report(args, conn, server, expected, faults, sent, kills, wall, timed_out, n,
                      ExportRecord=ExportRecord, ReviewItem=ReviewItem)
    finally:
        for worker in workers:
            worker.stop(timeout=10)
        if web is not None:
            web.terminate()
            web.wait(timeout=10)
        server.stop()
        if simulator is not None:
            simulator.shutdown()
        if args.broker == "redis":
            import redis

            queue = redis.from_url(args.redis_url)
            for key in queue.scan_iter(f"django_q:{os.environ['Q_CLUSTER_NAME']}:*"):
                queue.delete(key)


def _entry_gross(preview: dict) -> tuple[str, Decimal]:
    """(currency, gross) of the entry we built: the paid-through side (a debit for a refund)."""
    credit = sum((Decimal(line["credit"]) - Decimal(line["debit"]) for line in preview["lines"]
                  if line["role"] == "paid_through"), Decimal(0))
    return preview["currency"], credit


def report(args, conn, server, expected, faults, sent, kills, wall, timed_out, n, *, ExportRecord, ReviewItem) -> int:
    held = SYSTEMS[args.system].booked(server)
    duplicates = sum(len(docs) - 1 for docs in held.values() if len(docs) > 1)
    records = {(r.source_id, r.source_version): r for r in ExportRecord.objects.filter(connection=conn, kind="expense")}
    in_review = set(ReviewItem.objects.filter(record__connection=conn, resolved_at__isnull=True)
                    .values_list("record__source_id", "record__source_version"))
    lost, stale, restated, differs, remote_sum, local_sum = [], [], [], [], Counter(), Counter()
    for eid, s in expected.items():
        ref = f"EXPENSICO-{eid}-v{s['version']}"
        older = [f"EXPENSICO-{eid}-v{v}" for v in range(1, s["version"])]
        stale += [r for r in older if r in held]
        if s["cancelled"]:
            stale += [ref] if ref in held else []
            continue
        record = records.get((eid, s["version"]))
        if ref in held and record is not None and record.status == "exported":
            ours = _entry_gross(record.entry_preview)
            local_sum[ours[0]] += ours[1]
            cur, amount = held[ref][0]
            remote_sum[cur] += amount
            if (cur, amount) != ours:
                differs.append((ref, f"vendor {cur} {amount}", f"ours {ours[0]} {ours[1]}"))
            if ours != (s["currency"], s["amount"]):
                restated.append((ref, f"source {s['currency']} {s['amount']}", f"booked {ours[0]} {ours[1]}"))
        elif (eid, s["version"]) not in in_review:
            lost.append((eid, s["version"], record.status if record else "no record"))
    sums_match = all(remote_sum[c].quantize(Decimal("0.001")) == local_sum[c].quantize(Decimal("0.001"))
                     for c in set(remote_sum) | set(local_sum))
    statuses = Counter(ExportRecord.objects.filter(connection=conn).values_list("status", flat=True))
    print(f"\nchaos run ({args.broker} broker): {n} simulator expenses, {len(expected)} tracked, seed {args.seed}, "
          f"{wall:.0f}s"
          f"{' (TIMED OUT)' if timed_out else ''}")
    print(f"  faults injected: {dict(faults.counts)}; worker kills: {kills}; webhook statuses: {dict(sent)}")
    print(f"  records: {dict(statuses)}")
    print(f"  duplicates: {duplicates}")
    print(f"  lost: {len(lost)}{' ' + str(lost[:5]) if lost else ''}")
    print(f"  booked after cancel/edit (not reversed): {len(stale)}")
    reasons = Counter(ReviewItem.objects.filter(record__connection=conn, resolved_at__isnull=True)
                      .values_list("reason", flat=True))
    print(f"  review items open: {len(in_review)} {dict(reasons)}")
    from expensico_sync.source.models import Receipt
    receipts = Counter("verified" if r.verified else "failed" if r.fetch_error else "not fetched"
                       for r in Receipt.objects.filter(expense__organization=conn.organization))
    print(f"  receipts (served by the simulator, fetched by intake or the worker): {dict(receipts)}")
    print(f"  sums match: {sums_match}  (vendor {dict(remote_sum)} vs ours {dict(local_sum)})")
    print(f"  documents the vendor holds at another amount than our entry: {len(differs)} {differs[:3]}")
    # The simulator's edited expenses state a tax rounded on its own; the books must still show it.
    print(f"  entries whose gross differs from the source's amount + stated VAT: {len(restated)} {restated[:3]}")
    ok = not duplicates and not lost and not stale and not restated and not differs and sums_match and not timed_out
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
