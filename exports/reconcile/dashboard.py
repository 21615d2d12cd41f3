"""Dashboard panel "Reconciliation progress": per connection that reads back, this month's and
last month's latest run, its differences and how many are explained, and the share verified."""

from datetime import timedelta

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from connectors.models import Connection
from expensico_sync.core.dashboard import register_panel

from ..models import ExportRecord, Kind
from ..transitions import Status
from .selectors import difference_counts, reads_back, reconciliation_latest


def _month_cell(connection, period) -> str:
    run = reconciliation_latest(connection=connection, period=period)
    if run is None:
        return _("not reconciled")
    total, explained = difference_counts(run)
    if not total:
        return _("zero differences")
    return ngettext("%(total)s difference, %(explained)s explained", "%(total)s differences, %(explained)s explained",
                    total) % {"total": total, "explained": explained}


@register_panel
def reconciliation_panel(request, org_ids):
    this_month = timezone.localdate().replace(day=1)
    last_month = (this_month - timedelta(days=1)).replace(day=1)
    rows = []
    for connection in Connection.objects.filter(organization__in=org_ids).order_by("organization__name", "name"):
        if not reads_back(connection):
            continue
        booked = ExportRecord.objects.filter(connection=connection, status=Status.EXPORTED).exclude(
            kind=Kind.STATEMENT_TRANSACTION)
        total = booked.count()
        verified = booked.filter(verified_at__isnull=False).count()
        rows.append([connection.name, _month_cell(connection, last_month), _month_cell(connection, this_month),
                     _("%(verified)s of %(total)s") % {"verified": verified, "total": total}
                     + (f" ({100 * verified // total}%)" if total else "")])
    if not rows:
        return {}
    return {"tables": [{"title": _("Reconciliation progress"), "table": {
        "headers": [_("Connection"), date_format(last_month, "M Y"), date_format(this_month, "M Y"), _("Verified")],
        "rows": rows}}]}
