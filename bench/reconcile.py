"""Reconciling a month per vendor: wall time, vendor requests used and memory.

    python bench/reconcile.py                       # 10,000 expenses per vendor that reads back
    python bench/reconcile.py --expenses 1000 --system KEY    # a key from connectors/registry.py (all of them when left out)

What runs: a dedicated PostgreSQL database (default `expensico_benchrecon`, re-created from a
migrated template, as bench/export.py does), each vendor's sandbox in this process (its testkit's
`start_sandbox`/`connect`, the same set-up the contract suite uses), a month of N claims spread
over November 2026: the Expensico side is written in bulk, each expense is booked at the vendor
through the production connector's `push` with the vendor's and our rate limits stepped aside
(set-up, not measured; where the vendor's bench module has `copy_document`, as all six do, one
push and then copies written into the sandbox's books), and our exported records
are written in bulk. Then one reconciliation runs through the service (`reconciliation_create` +
`reconciliation_execute`): read-back of the whole month, ledger balances, rows, differences.

Printed per vendor: wall time of the reconciliation, vendor requests it used (every HTTP request
in the call log, read-back and balance queries alike; Xledger's goal is ≤ 1 per 500 documents),
documents per request, the peak resident memory the run added (and the process's peak), and the
check: zero differences and every row zero. Everything binds to 127.0.0.1 and stops itself.
"""

import argparse
import dataclasses
import os
import resource
import sys
import time
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.database import database_prepare, django_setup  # noqa: E402

NOV = date(2026, 11, 1)
SETUP_RATE = 100_000      # requests per second our client may send while the month is booked


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def month_seed(kit, server, connection, n: int, copy=None) -> None:
    """N claims: the mirror rows, each booked at the vendor, and our exported records. Booked is
    one push each through the connector, or, where the vendor's bench module offers
    `copy_document(server, external_id, reference, on)`, one push and then copies written into
    the sandbox's books directly (the set-up is not what is measured; pushing 10,000 through a
    burst limit takes most of an hour)."""
    from django.utils import timezone

    from connectors.base import connector_for
    from expensico_sync.source.models import Category, Employee, Expense, ExpenseReport
    from exports.entries import entry_to_json
    from exports.models import ExportRecord

    org = connection.organization
    employee = Employee.objects.create(organization=org, expensico_id="emp_b", name="Bench")
    category = Category.objects.create(organization=org, expensico_id="cat_b", code="TRAVEL", name="Travel")
    report = ExpenseReport.objects.create(organization=org, expensico_id="rpt_b", number="R-B", employee=employee,
                                          approved_at=timezone.now(), currency="SAR")
    connector = connector_for(connection)
    expenses, records = [], []
    template = ""
    for i in range(n):
        on = NOV + timedelta(days=i % 30)
        reference = f"EXPENSICO-exp_b{i}-v1"
        entry = dataclasses.replace(kit.sample_entry(server, connection, reference), date=on)
        if copy and template:
            external_id = copy(server, template, reference, on)
        else:
            external_id = connector.push(entry, str(uuid.uuid4())).external_id
            template = external_id
        expense = Expense(organization=org, expensico_id=f"exp_b{i}", report=report, version=1, type="expense",
                          date=on, category=category, funding_source="reimbursable", amount=entry.gross,
                          currency=entry.currency, employee=employee, tax_rate=15, tax_inclusive=True)
        expenses.append(expense)
        records.append(ExportRecord(organization=org, connection=connection, kind="expense", source_id=f"exp_b{i}",
                                    source_version=1, expense=expense, employee=employee, document_date=on,
                                    reference=reference, status="exported", external_id=external_id,
                                    entry_preview=entry_to_json(entry), exported_at=timezone.now()))
    Expense.objects.bulk_create(expenses, batch_size=1000)
    ExportRecord.objects.bulk_create(records, batch_size=1000)


def reconcile_one(system: str, n: int) -> dict:
    from bench.systems import SYSTEMS
    from connectors.models import CallLog
    from connectors.registry import vendor
    from expensico_sync.core.models import Organization
    from exports.reconcile.run import reconciliation_create, reconciliation_execute

    kit = vendor(system).module("testkit")
    server = kit.start_sandbox()
    try:
        org = Organization.objects.create(slug=f"bench-{system}-{int(time.time())}", name=f"Bench {system}",
                                          base_currency="SAR", mode="live")
        connection = kit.connect(server, org)
        # Set-up is not what is measured: the sandbox's own rate limit and our client's limiter
        # step aside while the month is booked, and come back (fresh counters) for the run.
        profile = SYSTEMS[system]
        profile.vendor_limits(server, False)
        settings = dict(connection.settings)
        connection.settings = {**settings, "rate_limit_per_second": SETUP_RATE}
        connection.save(update_fields=["settings"])
        started = time.monotonic()
        month_seed(kit, server, connection, n, copy=getattr(vendor(system).module("bench"), "copy_document", None))
        seeded = time.monotonic() - started
        # The testkit's short read timeout suits tests; a month's page of 999 SOAP journals on a
        # loaded box takes longer, so the run waits as production does (its default, 60 s),
        # and our client keeps the vendor's documented rate (Moon ERP: 60 a minute), not the testkit's.
        connection.settings = {**settings, "read_timeout": 60,
                               **({"rate_limit_per_second": max(1, int(profile.limit))} if profile.limit else {})}
        connection.save(update_fields=["settings"])
        profile.vendor_limits(server, True)
        calls = CallLog.objects.filter(connection=connection).count()
        rss_before = rss_mib()
        started = time.monotonic()
        run = reconciliation_create(connection=connection, period=NOV, confirm_cost=True)
        reconciliation_execute(reconciliation_id=run.pk)
        wall = time.monotonic() - started
        run.refresh_from_db()
        requests = CallLog.objects.filter(connection=connection).count() - calls
        rows_zero = all(row.difference == 0 for row in run.rows.all())
        return {"system": system, "n": n, "seed_s": seeded, "wall_s": wall, "requests": requests,
                "read_back_requests": run.requests_used, "estimate": run.requests_estimate,
                "rss_added": rss_mib() - rss_before, "rss_peak": rss_mib(), "status": run.status,
                "differences": run.differences.count(), "rows_zero": rows_zero, "error": run.error}
    finally:
        server.stop()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--expenses", type=int, default=10_000)
    parser.add_argument("--system", action="append", help="a vendor key (repeatable); default: every one "
                        "that reads back")
    parser.add_argument("--database", default="expensico_benchrecon")
    args = parser.parse_args(argv)
    os.environ.setdefault("VENDOR_HOSTS_ALLOW", "127.0.0.1,localhost")
    django_setup(database_prepare(args.database))
    from connectors.registry import vendors

    systems = args.system or [v.key for v in vendors() if v.connector_class().reads_back]
    print(f"Reconciling {args.expenses:,} expenses per vendor, {datetime.now():%Y-%m-%d %H:%M}")
    print(f"{'vendor':<18}{'wall s':>9}{'requests':>10}{'docs/req':>10}{'read-back':>11}{'RSS +MiB':>10}"
          f"{'peak MiB':>10}  check")
    failed = 0
    for system in systems:
        r = reconcile_one(system, args.expenses)
        ok = r["status"] == "finished" and r["differences"] == 0 and r["rows_zero"]
        failed += not ok
        per = r["n"] / r["requests"] if r["requests"] else float("inf")
        check = "ok: zero differences" if ok else f"FAILED: {r['status']} {r['differences']} differences {r['error']}"
        print(f"{system:<18}{r['wall_s']:>9.1f}{r['requests']:>10}{per:>10.0f}{r['read_back_requests']:>11}"
              f"{r['rss_added']:>10.1f}{r['rss_peak']:>10.1f}  {check} (set-up {r['seed_s']:.0f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
