"""Activating a connection (the guided setup's last step): what it would export from the chosen
start date, and, once activated, the documents already received from that date on are booked
through a sync run (looked up at the vendor before anything is sent)."""

from datetime import date

from django.utils import timezone

from connectors.models import Connection
from connectors.setup_steps import ActivationPreview, activation_preview_register, connection_activated
from mappings.documents import document_from_expense
from mappings.resolve import MappingGap, resolve
from mappings.selectors import mapping_snapshot
from mappings.settings import ConnectionSettings

from .services.sync import sync_run_create, sync_run_documents

KIND_WORDS = {"expenses": "expenses", "fundings": "card fundings", "reimbursements": "reimbursements",
              "lines": "statement lines"}


@activation_preview_register
def activation_counts(connection: Connection, export_from: date) -> ActivationPreview:
    docs = sync_run_documents(organization_id=connection.organization_id, date_from=export_from,
                              date_to=max(export_from, timezone.localdate()))
    counts = {kind: qs.count() for kind, qs in docs.items()}
    held = 0
    if counts["expenses"]:
        snapshot = mapping_snapshot(connection)
        settings = ConnectionSettings.from_connection(connection)
        expenses = (docs["expenses"].select_related("report", "category", "card", "employee")
                    .prefetch_related("receipts").defer("report__raw", "details"))
        held = sum(1 for e in expenses
                   if isinstance(resolve(document_from_expense(e), snapshot, settings), MappingGap))
    detail = ", ".join(f"{n} {KIND_WORDS[kind]}" for kind, n in counts.items())
    return ActivationPreview(export=sum(counts.values()), held=held,
                             detail=f"{detail}; held = expenses waiting for a missing mapping")


def on_connection_activated(sender, connection, export_from, **kwargs):
    today = timezone.localdate()
    if export_from <= today:
        sync_run_create(connection=connection, date_from=export_from, date_to=today)


connection_activated.connect(on_connection_activated, dispatch_uid="exports.connection_activated")
