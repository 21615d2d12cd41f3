"""Reads of stored reconciliations (the checklist, the evidence pack, the admin and the API)."""

from datetime import date

from connectors.base import connector_class

from .models import Reconciliation, ReconciliationDifference


def reads_back(connection) -> bool:
    try:
        return connector_class(connection.system).reads_back
    except LookupError:
        return False


def reconciliation_latest(*, connection, period: date) -> Reconciliation | None:
    return (Reconciliation.objects.filter(connection=connection, period=period,
                                          status=Reconciliation.Status.FINISHED).order_by("-id").first())


def differences_unexplained(reconciliation: Reconciliation):
    return reconciliation.differences.filter(explained_at__isnull=True)


def difference_counts(reconciliation: Reconciliation) -> tuple[int, int]:
    """(differences, explained)."""
    qs = ReconciliationDifference.objects.filter(reconciliation=reconciliation)
    return qs.count(), qs.filter(explained_at__isnull=False).count()
