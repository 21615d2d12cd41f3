"""The evidence pack at a year of data: wall time, rows, file size and the process's peak RSS of
one build (the django-q2 task's body), in a fresh process so the peak is the build's own.

    python bench/evidence.py --database expensico_scale_bench            # last month, first connection
    python bench/evidence.py --database expensico_scale_bench --period 2026-07 --connection 1

Needs a data set built by `bench/scale.py --keep`. The pack is stored like the task stores it
(an EvidencePack row and its file in the storage backend); pass --keep-file to leave it there."""

import argparse
import os
import resource
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024     # Linux: KB


def build_once(connection_id: int | None, period: date | None, *, keep_file: bool = True) -> dict:
    """Build one pack now (as the task does) and return its figures. Django must be set up."""
    from dateutil.relativedelta import relativedelta
    from django.utils import timezone

    from connectors.models import Connection
    from exports.close.models import EvidencePack
    from exports.close.packs import pack_build

    connection = (Connection.objects.get(pk=connection_id) if connection_id
                  else Connection.objects.order_by("pk").first())
    period = period or (timezone.localdate().replace(day=1) - relativedelta(months=1))
    EvidencePack.objects.filter(connection=connection, period=period, status__in=EvidencePack.ACTIVE).delete()
    pack = EvidencePack.objects.create(connection=connection, period=period)
    before = rss_mb()
    started, started_cpu = time.perf_counter(), time.process_time()
    built = pack_build(pack.pk)
    wall, cpu = time.perf_counter() - started, time.process_time() - started_cpu
    pack.refresh_from_db()
    figures = {"connection": connection.pk, "period": f"{period:%Y-%m}", "status": pack.status,
               "rows": pack.rows_total, "size_mb": (pack.size or 0) / 2 ** 20, "wall_s": wall, "cpu_s": cpu,
               "rss_before_mb": before, "rss_peak_mb": rss_mb(), "error": pack.error}
    if built is not None and not keep_file:
        pack.file.delete(save=False)
        pack.delete()
    return figures


def print_figures(f: dict) -> None:
    print(f"evidence pack {f['period']} · connection {f['connection']}: {f['status']} · {f['rows']:,} rows · "
          f"{f['size_mb']:.1f} MB zip · wall {f['wall_s']:.1f} s · cpu {f['cpu_s']:.1f} s · "
          f"peak RSS {f['rss_peak_mb']:.0f} MB (before the build {f['rss_before_mb']:.0f} MB) · "
          f"load average {os.getloadavg()[0]:.2f}" + (f" · error {f['error']}" if f["error"] else ""), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="expensico_scale_bench")
    parser.add_argument("--connection", type=int)
    parser.add_argument("--period", help="YYYY-MM (default: last month)")
    parser.add_argument("--keep-file", action="store_true")
    args = parser.parse_args()

    from bench.scale import PG, django_setup

    django_setup(f"{PG}/{args.database}")
    period = date.fromisoformat(f"{args.period}-01") if args.period else None
    figures = build_once(args.connection, period, keep_file=args.keep_file)
    print_figures(figures)
    return 0 if figures["status"] == "ready" else 1


if __name__ == "__main__":
    sys.exit(main())
