"""Activating a connection (the guided setup's last step): what it would export from the chosen
start date, and, once activated, the documents already received from that date on are booked
through a sync run (looked up at the vendor before anything is sent)."""

from datetime import date

from django.db.models import Subquery
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext_lazy

from connectors.models import Connection
from connectors.setup_steps import ActivationPreview, activation_preview_register, connection_activated
from mappings.documents import document_from_expense
from mappings.models import CategoryMapping
from mappings.resolve import MappingGap, resolve
from mappings.selectors import mapping_snapshot
from mappings.settings import ConnectionSettings

from .services.sync import sync_run_create, sync_run_documents

# A page resolves at most this many expenses through the full mapping to count the held ones exactly.
RESOLVE_AT_MOST = 300
# Counted in the language's plural forms (Arabic has six): `KIND_COUNTS[kind] % {"count": n}`.
KIND_COUNTS = {"expenses": ngettext_lazy("%(count)s expense", "%(count)s expenses", "count"),
               "fundings": ngettext_lazy("%(count)s card funding", "%(count)s card fundings", "count"),
               "reimbursements": ngettext_lazy("%(count)s reimbursement", "%(count)s reimbursements", "count"),
               "lines": ngettext_lazy("%(count)s statement line", "%(count)s statement lines", "count")}


@activation_preview_register
def activation_counts(connection: Connection, export_from: date) -> ActivationPreview:
    docs = sync_run_documents(organization_id=connection.organization_id, date_from=export_from,
                              date_to=max(export_from, timezone.localdate()))
    counts = {kind: qs.count() for kind, qs in docs.items()}
    held, how = 0, _("expenses waiting for a missing mapping")
    if 0 < counts["expenses"] <= RESOLVE_AT_MOST:
        snapshot = mapping_snapshot(connection)
        settings = ConnectionSettings.from_connection(connection)
        expenses = (docs["expenses"].select_related("report", "category", "card", "employee")
                    .prefetch_related("receipts").defer("report__raw", "details"))
        held = sum(1 for e in expenses
                   if isinstance(resolve(document_from_expense(e), snapshot, settings), MappingGap))
    elif counts["expenses"]:
        # Too many to resolve within a page: the category mappings alone, in one query.
        mapped = CategoryMapping.objects.filter(connection=connection).values("category_code")
        held = docs["expenses"].exclude(category__code__in=Subquery(mapped)).count()
        how = _("expenses whose category has no account yet (other mappings not checked at this size)")
    detail = ", ".join(KIND_COUNTS[kind] % {"count": n} for kind, n in counts.items())
    return ActivationPreview(export=sum(counts.values()), held=held, detail=_("%(counts)s; held = %(how)s") % {"counts": detail, "how": how})


def on_connection_activated(sender, connection, export_from, **kwargs):
    today = timezone.localdate()
    if export_from <= today:
        sync_run_create(connection=connection, date_from=export_from, date_to=today)


connection_activated.connect(on_connection_activated, dispatch_uid="exports.connection_activated")
