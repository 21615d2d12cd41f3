"""Server time of every admin page on the demo organisation, as a finance admin sees it.

    python bench/admin_pages.py [--database expensico_admin_bench] [--port 8000] [--settle 45] [--runs 3]
    python bench/admin_pages.py --reuse          # walk the database a previous run left seeded

1. A fresh, migrated PostgreSQL database (bench/export.py's template copy) is seeded the way
   `make run` seeds it: `manage.py devstack` runs (web, worker, simulator, every sandbox, the demo
   organisations connected through the real setup flows) until it says it is running, then
   `--settle` more seconds so the worker exports, then it is stopped (SIGTERM, as Ctrl-C).
   Its processes listen on `--port` (web) and the ports after it (simulator, mail catcher and
   sandboxes: one each), so several runs can share a machine.
2. In this process, Django's test client walks, signed in as a finance admin of both demo
   organisations: the dashboard, every registered model's changelist, add page and first change
   page, and every extra GET view the model admins register (setup pages, mapping sets, …), each
   `--runs` times. The table gives the first (cold) and median time and the queries of the last run.

Timings are wall-clock in this process (the view, its queries and the template), on whatever
load the machine has: the load average is printed with them.
"""

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.database import PG, database_prepare, django_setup  # noqa: E402

BUDGET_MS = 500


# --- 1. seed: the devstack, on ports from --port on ------------------------------------------------

def serve(port: int) -> None:
    """Runs inside the child process: `manage.py devstack` with each devstack module's fixed port
    moved next to `port` (the modules read PORT when they start their process)."""
    django_setup(os.environ["DATABASE_URL"])
    from django.core.management import call_command

    from expensico_sync.core.devstack import devstack_modules

    moved = port
    for module in devstack_modules():
        if isinstance(getattr(module, "PORT", None), int):
            moved += 1
            module.PORT = moved
    call_command("devstack", host="127.0.0.1", port=port, port_offset=0, stop_grace=10.0)


def seed(database_url: str, port: int, settle: float, log: Path) -> None:
    env = {**os.environ, "DATABASE_URL": database_url, "DEBUG": "1", "ADMIN_REQUIRE_MFA": "false",
           "VENDOR_HOSTS_ALLOW": "127.0.0.1,localhost", "EXPENSICO_HOSTS_ALLOW": "127.0.0.1,localhost",
           "VAR_DIR": tempfile.mkdtemp(prefix="admin-bench-"), "Q_SYNC": "false", "PYTHONUNBUFFERED": "1"}
    with open(log, "w") as out:
        child = subprocess.Popen([sys.executable, __file__, "--serve", "--port", str(port)], cwd=ROOT, env=env,
                                 stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + 900
            while "expensico-sync is running" not in log.read_text():
                if child.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"the devstack did not start; see {log}")
                time.sleep(2)
            print(f"seeded; letting the worker export for {settle:g}s", flush=True)
            time.sleep(settle)
        finally:
            child.send_signal(signal.SIGTERM)
            try:
                child.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()


# --- 2. walk -----------------------------------------------------------------------------------------

def finance_admin():
    from django.contrib.auth import get_user_model

    from expensico_sync.core.models import Membership, Organization

    user, _ = get_user_model().objects.get_or_create(username="bench-finance", defaults={"is_staff": True})
    for org in Organization.objects.filter(slug__in=["demo", "demo-lab"]):
        Membership.objects.get_or_create(user=user, organization=org, defaults={"role": "finance_admin"})
    return user


def pages(user) -> list[tuple[str, str]]:
    """(label, url) of every page to time."""
    from django.contrib import admin
    from django.test import RequestFactory
    from django.urls import NoReverseMatch, reverse

    request = RequestFactory().get("/admin/")
    request.user = user
    found = [("dashboard", reverse("admin:index"))]
    standard = {"changelist", "add", "change", "delete", "history", "autocomplete"}
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        prefix = f"admin:{opts.app_label}_{opts.model_name}"
        if not model_admin.has_view_permission(request):
            continue
        first = model_admin.get_queryset(request).order_by("-pk").values_list("pk", flat=True).first()
        found.append((f"{opts.app_label}.{opts.model_name} list", reverse(f"{prefix}_changelist")))
        if model_admin.has_add_permission(request):
            found.append((f"{opts.app_label}.{opts.model_name} add", reverse(f"{prefix}_add")))
        if first is not None:
            found.append((f"{opts.app_label}.{opts.model_name} change", reverse(f"{prefix}_change", args=[first])))
        for pattern in model_admin.get_urls():
            name = getattr(pattern, "name", None) or ""
            if not name.startswith(f"{opts.app_label}_{opts.model_name}_") or \
                    name.rsplit("_", 1)[-1] in standard or name.endswith("_changelist"):
                continue
            params = list(pattern.pattern.regex.groupindex)
            try:
                if not params:
                    url = reverse(f"admin:{name}")
                elif len(params) == 1 and first is not None:
                    url = reverse(f"admin:{name}", args=[first])
                else:
                    continue
            except NoReverseMatch:
                continue
            found.append((f"{opts.app_label}.{opts.model_name} {name.split(opts.model_name + '_', 1)[-1]}", url))
    return found


def walk(runs: int) -> list[dict]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    setup_test_environment()
    user = finance_admin()
    client = Client()
    client.force_login(user)
    rows = []
    for label, url in pages(user):
        times, status, queries = [], None, 0
        for _ in range(runs):
            with CaptureQueriesContext(connection) as ctx:
                started = time.perf_counter()
                try:
                    response = client.get(url)
                    status = response.status_code
                except Exception as exc:  # a page that crashes is reported, not hidden
                    status = type(exc).__name__
                times.append(1000 * (time.perf_counter() - started))
            queries = len(ctx.captured_queries)
        rows.append({"page": label, "url": url, "status": status, "first": times[0],
                     "p50": statistics.median(times), "queries": queries})
    return rows


def table(rows: list[dict], load_before, load_after) -> None:
    print(f"\nload average before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}"
          f" · after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f} · {time.strftime('%Y-%m-%d %H:%M %Z')}")
    print(f"{'page':<58} {'status':>6} {'first ms':>9} {'p50 ms':>8} {'queries':>8}")
    for r in sorted(rows, key=lambda r: -r["p50"]):
        flag = "  > budget" if r["p50"] > BUDGET_MS else ""
        print(f"{r['page'][:58]:<58} {str(r['status']):>6} {r['first']:9.0f} {r['p50']:8.0f} {r['queries']:8d}{flag}")
    slow = [r for r in rows if r["p50"] > BUDGET_MS]
    broken = [r for r in rows if r["status"] != 200]
    print(f"\n{len(rows)} pages · {len(slow)} over {BUDGET_MS} ms (p50) · {len(broken)} not 200: "
          + ", ".join(f"{r['page']} ({r['status']})" for r in broken))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="expensico_admin_bench")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--settle", type=float, default=45)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--reuse", action="store_true", help="walk the database as a previous run left it")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve(args.port)
    url = f"{PG}/{args.database}"
    if not args.reuse:
        database_prepare(args.database)
        seed(url, args.port, args.settle, Path(tempfile.gettempdir()) / f"{args.database}-devstack.log")
    # As `make run` serves them: no MFA enrolment in the demo, the sandboxes' loopback hosts allowed.
    os.environ.update(DEBUG="1", ADMIN_REQUIRE_MFA="false", VENDOR_HOSTS_ALLOW="127.0.0.1,localhost",
                      EXPENSICO_HOSTS_ALLOW="127.0.0.1,localhost")
    django_setup(url)
    load_before = os.getloadavg()
    rows = walk(args.runs)
    table(rows, load_before, os.getloadavg())


if __name__ == "__main__":
    main()
