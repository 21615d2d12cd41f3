"""Every admin and API page at a year of data: p50/p95 server time, queries per page, the slowest
query, and EXPLAIN for any sequential scan over a large table.

    python bench/scale.py --rows 1000000            # build (≈ minutes) and measure
    python bench/scale.py --rows 100000 --keep      # keep the database for another run
    python bench/scale.py --reuse --only exportrecord

The data set lives in its own database (default `expensico_scale_bench`, dropped at the end
unless --keep). Requests go through Django's test client in this process, so the time is server
time (middleware, views, templates, SQL) without a network or a web server in front.
"""

import argparse
import base64
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
LARGE = ("source_expense", "source_expensereport", "source_receipt", "exports_exportrecord",
         "exports_exportattempt", "connectors_calllog", "source_webhookdelivery", "exports_reviewitem")
ADMIN_GOAL_MS, API_GOAL_MS = 150, 50


def _admin_sql(statements):
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        for sql in statements:
            conn.execute(sql)


def database_create(name: str) -> str:
    _admin_sql([f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'",
                f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"'])
    url = f"{PG}/{name}"
    subprocess.run([sys.executable, "manage.py", "migrate", "--verbosity", "0"], cwd=ROOT, check=True,
                   env={**os.environ, "DATABASE_URL": url, "Q_SYNC": "false"})
    return url


def mail_dir(database: str) -> Path:
    return Path(os.environ.get("TMPDIR", "/tmp")) / f"expensico-scale-mail-{database}"


def django_setup(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("MAIL_CATCHER_DIR", str(mail_dir(url.rsplit("/", 1)[1])))
    os.environ.setdefault("Q_SYNC", "false")
    # The pages are measured signed in without a second factor: the TOTP gate is a redirect, not a page.
    os.environ.setdefault("ADMIN_REQUIRE_MFA", "false")
    # No collectstatic here: plain storage, as in the tests.
    os.environ.setdefault("STATICFILES_BACKEND", "django.contrib.staticfiles.storage.StaticFilesStorage")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "expensico_sync.settings")
    import django

    django.setup()


# --- which pages -----------------------------------------------------------------------------------

def _sample(model_admin, lookup: str):
    """A real value for a search term: the lookup's value on a row in the middle of the table."""
    qs = model_admin.model._default_manager.order_by("pk")
    count_hint = qs.values_list("pk", flat=True).last() or 0
    row = qs.filter(pk__gte=count_hint // 2).values_list(lookup.lstrip("^=@"), flat=True).first()
    return str(row) if row not in (None, "") else None


def admin_pages(client, user) -> list[tuple[str, str]]:
    """(label, url) for every changelist view (default, each filter, search, each sortable column)
    and one change page per model admin the user may see."""
    from django.contrib import admin
    from django.test.utils import setup_test_environment, teardown_test_environment
    from django.urls import reverse

    pages = [("dashboard", reverse("admin:index"))]
    setup_test_environment()  # response.context, for the filter choices and the result rows
    try:
        for model, model_admin in sorted(admin.site._registry.items(), key=lambda i: i[0]._meta.label):
            info = model._meta.app_label, model._meta.model_name
            name = f"{info[0]}.{info[1]}"
            try:
                url = reverse(f"admin:{info[0]}_{info[1]}_changelist")
            except Exception:
                continue
            response = client.get(url)
            if response.status_code != 200 or not response.context or "cl" not in response.context:
                continue
            cl = response.context["cl"]
            pages.append((f"{name} list", url))
            for spec in cl.filter_specs:
                query = _filter_query(spec, cl)
                if query:
                    pages.append((f"{name} filter {spec.title}", f"{url}?{query}"))
            if model_admin.search_fields:
                term = _sample(model_admin, model_admin.search_fields[0])
                if term:
                    pages.append((f"{name} search", f"{url}?{urlencode({'q': term})}"))
            for index, field in enumerate(cl.list_display):
                if field != "action_checkbox" and field in cl.sortable_by and cl.get_ordering_field(field):
                    pages.append((f"{name} sort {field}", f"{url}?o=-{index}"))
            if cl.result_list:
                pk = list(cl.result_list)[0].pk
                try:
                    pages.append((f"{name} change", reverse(f"admin:{info[0]}_{info[1]}_change", args=[pk])))
                except Exception:
                    pass
    finally:
        teardown_test_environment()
    return pages


def _filter_query(spec, cl) -> str | None:
    params = list(spec.expected_parameters())
    if any(p.endswith("_from") for p in params):
        start = next(p for p in params if p.endswith("_from"))
        end = next((p for p in params if p.endswith("_to")), None)
        query = {start: time.strftime("%Y-%m-%d", time.gmtime(time.time() - 30 * 86400))}
        if end:
            query[end] = time.strftime("%Y-%m-%d")
        return urlencode(query)
    try:
        choices = list(spec.choices(cl))
    except Exception:
        return None
    for choice in choices[1:]:
        qs = choice.get("query_string")
        if qs and not choice.get("selected"):
            return qs.lstrip("?")
    return None


def api_pages(client, conns) -> list[tuple[str, str]]:
    from exports.models import ExportRecord, ReviewItem

    record = ExportRecord.objects.filter(connection_id=conns[0]).order_by("pk")
    mid = record.values_list("pk", flat=True)[record.count() // 2] if record.exists() else 1
    deep = base64.b64encode(f"p={mid}".encode()).decode()
    sample = record.filter(pk__gte=mid).first()
    item = ReviewItem.objects.order_by("-pk").first()
    api = "/api/v1"
    pages = [
        ("api exports first page", f"{api}/accounting-exports"),
        ("api exports deep cursor", f"{api}/accounting-exports?{urlencode({'cursor': deep})}"),
        ("api exports status=needs_review", f"{api}/accounting-exports?status=needs_review"),
        ("api exports status=pending,retry", f"{api}/accounting-exports?status=pending&status=retry"),
        ("api exports kind=expense", f"{api}/accounting-exports?kind=expense"),
        ("api exports connection", f"{api}/accounting-exports?connection={conns[0]}"),
        ("api exports date range", f"{api}/accounting-exports?date_from={time.strftime('%Y-%m-01')}"),
        ("api exports employee", f"{api}/accounting-exports?employee=emp_7"),
        ("api exports reference", f"{api}/accounting-exports?reference={sample.reference if sample else 'x'}"),
        ("api exports source_id", f"{api}/accounting-exports?source_id={sample.source_id if sample else 'x'}"),
        ("api export detail", f"{api}/accounting-exports/{sample.pk if sample else 1}"),
        ("api review items", f"{api}/review-items"),
        ("api review items open", f"{api}/review-items?open=true"),
        ("api review items reason", f"{api}/review-items?reason=mapping_gap"),
        ("api review items deep cursor", f"{api}/review-items?{urlencode({'cursor': base64.b64encode(f'p={(item.pk if item else 2) // 2}'.encode()).decode()})}"),
        ("api review item detail", f"{api}/review-items/{item.pk if item else 1}"),
        ("api sync runs", f"{api}/sync-runs"),
        ("api mapping sets", f"{api}/mapping-sets"),
        ("api mapping set gaps", f"{api}/mapping-sets/{conns[0]}/gaps"),
        ("api category mappings", f"{api}/category-mappings?connection={conns[0]}"),
        ("api connections", f"{api}/connections"),
    ]
    return [(label, url) for label, url in pages if client.get(url).status_code != 404]


def month_pages(client, conns, superuser: bool) -> list[tuple[str, str]]:
    """This round's pages that are not a plain changelist: the close's month list and checklists,
    the evidence pack, a rule's test view, the caught mail, and the month's API."""
    from django.urls import NoReverseMatch, reverse
    from django.utils import timezone

    from bench.scale_data_month import months_back
    from exports.anomalies.models import AnomalyFlag
    from exports.models import MonthClose, Reconciliation, StatusChange
    from mappings.models import CodingRule

    this, last = months_back(timezone.localdate(), 2)
    org = MonthClose.objects.filter(status="open").order_by("organization_id").values_list(
        "organization_id", flat=True).first()
    if org is None:
        return []
    open_close = MonthClose.objects.filter(organization_id=org, period=last).first()
    signed = MonthClose.objects.filter(organization_id=org, status="signed_off").order_by("-period").first()
    run = (Reconciliation.objects.filter(connection_id=conns[0], period=last).order_by("-id").first()
           or Reconciliation.objects.order_by("-id").first())
    rule = CodingRule.objects.filter(connection_id=conns[0]).order_by("position", "id").first()
    # A record that was exported and then sent back for review: two status changes on its page.
    sent_back = (StatusChange.objects.filter(to_status="needs_review", from_status="exported")
                 .order_by("-record_id").values_list("record_id", flat=True).first())
    flag = AnomalyFlag.objects.order_by("-id").first()
    api = "/api/v1"
    pages = [
        ("close months", reverse("admin:exports_monthclose_months")),
        ("close checklist, open month", reverse("admin:exports_monthclose_month", args=[org, f"{last:%Y-%m}"])),
        ("close checklist, this month", reverse("admin:exports_monthclose_month", args=[org, f"{this:%Y-%m}"])),
        ("close checklist, signed month",
         reverse("admin:exports_monthclose_month", args=[org, f"{signed.period:%Y-%m}"]) if signed else ""),
        ("evidence pack download", reverse("admin:exports_monthclose_evidence", args=[org, f"{last:%Y-%m}", conns[0]])),
        ("evidence pack status list", reverse("admin:exports_evidencepack_changelist")),
        ("evidence pack status list, ready", reverse("admin:exports_evidencepack_changelist") + "?status__exact=ready"),
        ("reconciliation page, last month", reverse("admin:exports_reconciliation_change", args=[run.pk]) if run else ""),
        ("reconciliation differences of a run",
         reverse("admin:exports_reconciliationdifference_changelist") + f"?reconciliation__id__exact={run.pk}"
         if run else ""),
        ("coding rule test view", reverse("admin:mappings_codingrule_test_rule", args=[rule.pk]) if rule else ""),
        ("api metrics", f"{api}/metrics"),
        ("api metrics last month", f"{api}/metrics?period={last:%Y-%m}"),
        ("api metrics detail last month", f"{api}/metrics/{org}?period={last:%Y-%m}"),
        ("api reconciliations", f"{api}/reconciliations"),
        ("api reconciliations connection", f"{api}/reconciliations?connection={conns[0]}"),
        ("api reconciliation detail", f"{api}/reconciliations/{run.pk}" if run else ""),
        ("api reconciliation differences", f"{api}/reconciliations/{run.pk}/differences" if run else ""),
        ("api closes", f"{api}/closes"),
        ("api close detail, open month", f"{api}/closes/{open_close.pk}" if open_close else ""),
        ("api close detail, signed month", f"{api}/closes/{signed.pk}" if signed else ""),
        ("api close evidence", f"{api}/closes/{open_close.pk}/evidence?connection={conns[0]}" if open_close else ""),
        ("api coding rules", f"{api}/coding-rules"),
        ("api coding rule effects", f"{api}/coding-rule-effects/{rule.pk}" if rule else ""),
        ("api categoriser models", f"{api}/categoriser-models"),
        ("api review items suggested", f"{api}/review-items?reason=suggested_coding"),
        ("export record page, sent back for review (status changes)",
         reverse("admin:exports_exportrecord_change", args=[sent_back]) if sent_back else ""),
        ("api anomalies", f"{api}/anomalies"),
        ("api anomalies open", f"{api}/anomalies?status=open"),
        ("api anomalies detector", f"{api}/anomalies?detector=unusual_amount"),
        ("api anomaly detail", f"{api}/anomalies/{flag.pk}" if flag else ""),
        ("api anomaly settings", f"{api}/anomaly-settings"),
    ]
    try:
        if superuser:  # the caught mail is the operators'
            pages.append(("caught mail", reverse("admin:notify_notification_caught_mail")))
    except NoReverseMatch:
        pass
    # Not probed: each is requested when measured. The evidence pack is built beforehand by
    # month_prepare (minutes at 1M, in a django-q2 task in production); the pages serve the file.
    return [(label, url) for label, url in pages if url]


def peak_memory(client, url: str) -> float:
    """MB allocated at the peak of one request (tracemalloc: Python objects, not the process's RSS)."""
    import tracemalloc

    tracemalloc.start()
    try:
        response = client.get(url)
        b"".join(response.streaming_content) if response.streaming else response.content
        return tracemalloc.get_traced_memory()[1] / 2 ** 20
    finally:
        tracemalloc.stop()


# --- measuring -------------------------------------------------------------------------------------

def measure(client, url: str, repeat: int, warmup: int):
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    times, cpu, status, queries = [], [], None, []
    for i in range(warmup + repeat):
        db.queries_log.clear()  # a full log (9,000 entries) would capture nothing
        with CaptureQueriesContext(db) as ctx:
            started, started_cpu = time.perf_counter(), time.process_time()
            response = client.get(url)
            elapsed = (time.perf_counter() - started) * 1000
            spent = (time.process_time() - started_cpu) * 1000
        status = response.status_code
        if i >= warmup:
            times.append(elapsed)
            cpu.append(spent)
            queries = ctx.captured_queries
    return times, cpu, status, queries


def seq_scans(queries) -> list[str]:
    """EXPLAIN each SELECT of the page; the plans that scan a large table sequentially."""
    from django.db import connection as db

    found = []
    with db.cursor() as cur:
        for q in queries:
            sql = q["sql"]
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            try:
                cur.execute("EXPLAIN " + sql)
            except Exception:
                continue
            plan = "\n".join(r[0] for r in cur.fetchall())
            if any(re.search(rf"Seq Scan on {t}\b", plan) for t in LARGE):
                found.append(f"{sql[:300]}\n{plan}")
    return found


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def run(args, info) -> int:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from bench.scale_prepare import month_prepare

    users = get_user_model().objects
    results, over = [], 0
    for who in ("superuser", "finance"):
        client = Client()
        client.force_login(users.get(username=info[who]))
        month = month_pages(client, info["connections"], who == "superuser")
        pages = admin_pages(client, users.get(username=info[who])) + api_pages(client, info["connections"]) + month
        if args.only:
            pages = [p for p in pages if any(o in p[0] for o in args.only)]
        prepared = False
        for label, url in pages:
            if not prepared and (label, url) in month:
                # Production refreshes the open months' checklists and metrics every 5 minutes; a run
                # outlasts their freshness (10 minutes), so each user's month pages start from fresh ones.
                month_prepare(info, args.only)
                prepared = True
            times, cpu, status, queries = measure(client, url, args.repeat, args.warmup)
            goal = API_GOAL_MS if url.startswith("/api/") else ADMIN_GOAL_MS
            p50, p95 = statistics.median(times), pct(times, 95)
            slowest = max(queries, key=lambda q: float(q["time"]), default=None)
            scans = seq_scans(queries) if args.explain else []
            flag = "" if p50 <= goal else "  OVER"
            over += bool(flag)
            sql_ms = sum(float(q["time"]) for q in queries) * 1000
            results.append((who, label, p50, p95, len(queries), status))
            # CPU is this process's own time (Python), SQL the database's wall time: on a loaded
            # machine p50 also holds the time spent waiting for a core.
            print(f"{who:<9} {label:<56} {status} p50 {p50:7.1f} p95 {p95:7.1f} · cpu {statistics.median(cpu):6.1f}"
                  f" · sql {sql_ms:6.1f} ms · {len(queries):3d} q{flag}", flush=True)
            if slowest is not None and (flag or args.verbose):
                print(f"          slowest ({float(slowest['time']) * 1000:.0f} ms): {slowest['sql'][:400]}")
            for scan in scans:
                print("          SEQ SCAN: " + scan.replace("\n", "\n            "))
            if "evidence" in label and status == 200:
                print(f"          peak Python memory of one request: {peak_memory(client, url):.0f} MB", flush=True)
    print(f"\n{len(results)} pages measured, {over} over the goal (admin p50 ≤ {ADMIN_GOAL_MS} ms, "
          f"API p50 ≤ {API_GOAL_MS} ms); load average {os.getloadavg()[0]:.2f}")
    # A redirect or an error is not a measured page: say so loudly rather than print its fast time.
    failed = [f"{who} {label}: {status}" for who, label, _, _, _, status in results if status != 200]
    if failed:
        print("pages that did not answer 200:\n  " + "\n  ".join(failed))
        raise SystemExit(1)
    return over


def background(info) -> None:
    """The work the pages leave to django-q2: the dashboard's panels and each connection's gaps,
    recomputed in the background once older than a minute. It grows with the rows; the pages do not."""
    from connectors.models import Connection
    from expensico_sync.core.dashboard import dashboard_refresh
    from expensico_sync.core.models import Organization
    from mappings.dashboard import gaps_refresh

    jobs = [(f"dashboard refresh, organisation {o.slug}", lambda o=o: dashboard_refresh(org_ids=[o.pk]))
            for o in Organization.objects.order_by("pk")]
    jobs += [(f"gaps refresh, {c.name}", lambda c=c: gaps_refresh(c))
             for c in Connection.objects.filter(pk__in=info["connections"]).order_by("pk")]
    for label, job in jobs:
        started, started_cpu = time.perf_counter(), time.process_time()
        job()
        print(f"background {label:<50} {(time.perf_counter() - started) * 1000:9.0f} ms wall · "
              f"cpu {(time.process_time() - started_cpu) * 1000:7.0f} ms", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000, help="expenses (= export records = attempts)")
    parser.add_argument("--database", default="expensico_scale_bench")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--reuse", action="store_true", help="measure an existing data set (built with --keep)")
    parser.add_argument("--lean", action="store_true",
                        help="receipts, call log and webhook deliveries capped at the 1M set's (for 10M)")
    parser.add_argument("--keep", action="store_true", help="do not drop the database at the end")
    parser.add_argument("--extend", action="store_true",
                        help="with --reuse: add the month's tables (reconciliations, closes, coding, outbox …) "
                             "to a data set built before they existed")
    parser.add_argument("--only", nargs="*", help="measure only pages whose label contains one of these")
    parser.add_argument("--no-explain", dest="explain", action="store_false")
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--background", action="store_true",
                        help="also time the background refreshes (dashboard panels, gaps per connection)")
    args = parser.parse_args()

    url = f"{PG}/{args.database}"
    if not args.reuse:
        print(f"building {args.rows:,} rows in {args.database}", flush=True)
        database_create(args.database)
    django_setup(url)
    from django.contrib.auth import get_user_model

    from connectors.models import Connection

    if not args.reuse:
        from bench.scale_data import build

        started = time.monotonic()
        build(args.rows, lean=args.lean)
        print(f"built in {time.monotonic() - started:.0f} s", flush=True)
    if not args.reuse or args.extend:
        from bench.scale_data_month import extend
        from expensico_sync.source.models import Expense

        started = time.monotonic()
        extend(args.rows if not args.reuse else Expense.objects.count(), mail_dir=mail_dir(args.database))
        print(f"month tables filled in {time.monotonic() - started:.0f} s", flush=True)
        from bench.scale_data_round import extend_round

        started = time.monotonic()
        extend_round()
        print(f"status-change log and anomalies filled in {time.monotonic() - started:.0f} s", flush=True)
    info = {"superuser": "bench-super", "finance": "bench-finance",
            "connections": list(Connection.objects.order_by("pk").values_list("pk", flat=True))}
    assert get_user_model().objects.filter(username="bench-super").exists(), "no data set: run without --reuse"
    print(f"load average {os.getloadavg()[0]:.2f} · {os.cpu_count()} CPUs · {args.repeat} timed requests per page "
          f"after {args.warmup} warm-ups", flush=True)
    try:
        if args.background:
            background(info)
        run(args, info)
    finally:
        if not args.keep:
            from django.db import connections

            connections.close_all()
            _admin_sql([f'DROP DATABASE IF EXISTS "{args.database}"'])
            shutil.rmtree(mail_dir(args.database), ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
