"""Before the month's pages are measured: the work production leaves to django-q2 tasks."""


def month_prepare(info, only) -> None:
    """What the month's pages read and production computes in django-q2 tasks: the open months'
    checklists and metrics (stored with their "as of"), and last month's evidence pack for the
    first connection. Timed like the background refreshes; the pages then read the results."""
    from dateutil.relativedelta import relativedelta
    from django.utils import timezone

    from bench.evidence import build_once, print_figures
    from expensico_sync.core.models import Organization
    from exports.close.models import EvidencePack
    from exports.close.packs import pack_latest, pack_servable
    from exports.snapshots.services import snapshot_refresh

    this = timezone.localdate().replace(day=1)
    wanted = lambda *words: not only or any(w in o for o in only for w in words)  # noqa: E731
    if wanted("checklist", "metrics", "close"):
        for org in Organization.objects.order_by("pk"):
            for period in (this, this - relativedelta(months=1)):
                for kind in ("checklist", "metrics"):
                    shot = snapshot_refresh(kind=kind, organization=org, period=period)
                    print(f"background {kind} snapshot, {org.slug} {period:%Y-%m}{'':<22} {shot.duration_ms:9d} ms wall",
                          flush=True)
    if wanted("evidence"):
        from connectors.models import Connection

        last = this - relativedelta(months=1)
        connection = Connection.objects.get(pk=info["connections"][0])
        if pack_servable(pack_latest(connection=connection, period=last)):
            pack = EvidencePack.objects.filter(connection=connection, period=last, status="ready").latest("id")
            print(f"background evidence pack {last:%Y-%m} already built ({pack.rows_total:,} rows, "
                  f"{(pack.size or 0) / 2 ** 20:.1f} MB)", flush=True)
        else:
            print_figures(build_once(connection.pk, last))
