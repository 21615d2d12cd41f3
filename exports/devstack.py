"""`make run`: the demo organisation's data flows into the Wafeq sandbox.

Runs after the source, connectors and mappings seeds. Idempotent: a second `make run` finds the
finished sync and changes nothing. The demo goes live once, so records export; a missing-receipt
hold rule (only if mappings seeded none) parks a few expenses for review; a historical sync pulls
the simulator's history in the worker, and its page shows the progress live."""

from datetime import timedelta

from django.utils import timezone

from connectors.base import CatalogKind, connector_for
from connectors.models import Connection
from expensico_sync.core.models import Organization
from expensico_sync.source.models import Category
from mappings.models import CategoryMapping, HoldRule

from .models import SyncRun
from .services.sync import sync_run_create, sync_run_refresh

DEMO_HOLD = "Demo: missing receipt"


def _connection(ctx, org) -> Connection | None:
    conn_id = ctx.get("connection_id")
    qs = Connection.objects.filter(organization=org)
    return (qs.filter(pk=conn_id).first() if conn_id else None) or qs.order_by("pk").first()


def _fallback_mappings(conn) -> None:
    """Only when the mappings seed left the connection empty: map categories to the first expense
    account, so the demo exports instead of sending everything to review."""
    if not HoldRule.objects.filter(connection=conn).exists():
        HoldRule.objects.create(connection=conn, name=DEMO_HOLD, missing_receipt=True)
    if CategoryMapping.objects.filter(connection=conn).exists():
        return
    try:
        accounts = [a for a in connector_for(conn).catalog(CatalogKind.ACCOUNTS) if a.classification == "EXPENSE"]
    except Exception as exc:  # noqa: BLE001  the demo carries on; gaps then show up in review
        print(f"  exports: could not read the chart of accounts ({exc}); expenses will wait for mappings")
        return
    if not accounts:
        return
    for category in Category.objects.filter(organization=conn.organization):
        CategoryMapping.objects.get_or_create(connection=conn, category_code=category.code,
                                              defaults={"account": accounts[0].remote_id,
                                                        "account_name": accounts[0].name,
                                                        "category_name": category.name})


def seed(ctx):
    org: Organization = ctx["organization"]
    org.refresh_from_db()
    conn = _connection(ctx, org)
    if conn is None:
        print("  exports: no connection for the demo organisation; nothing to export")
        return
    first_time = not SyncRun.objects.filter(organization=org).exists()
    if first_time and org.mode == Organization.Mode.DRY_RUN:
        org.mode = Organization.Mode.LIVE  # the demo shows real exports; switch back in the admin
        org.save(update_fields=["mode", "updated_at"])
    _fallback_mappings(conn)
    run = SyncRun.objects.filter(organization=org, connection=conn).exclude(status=SyncRun.Status.FAILED).first()
    if run is None:
        today = timezone.localdate()
        # Runs in the worker, so `make run` is ready at once and the run's page shows it progress.
        run = sync_run_create(connection=conn, date_from=today - timedelta(days=365), date_to=today)
    run.refresh_from_db()
    run = sync_run_refresh(sync_run=run)
    print(f"  exports: sync run #{run.pk} {run.status} (found {run.found}, already there {run.already_there}, "
          f"exported {run.exported}, held {run.held}, failed {run.failed}); progress: "
          f"{ctx['base_url']}/admin/exports/syncrun/{run.pk}/change/")
