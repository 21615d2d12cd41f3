"""Reads of stored reconciliations (the checklist, the evidence pack, the admin and the API)."""

from datetime import date

from django.db.models import Count, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

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


def with_difference_counts(queryset):
    """Each reconciliation's `difference_count` and `explained_count`, one subquery per page row
    (read through the reconciliation's index) rather than two COUNT queries per row."""
    counts = (ReconciliationDifference.objects.filter(reconciliation=OuterRef("pk")).order_by()
              .values("reconciliation"))
    total = counts.annotate(n=Count("id")).values("n")
    explained = counts.annotate(n=Count("id", filter=Q(explained_at__isnull=False))).values("n")
    return queryset.annotate(difference_count=Coalesce(Subquery(total, output_field=IntegerField()), 0),
                             explained_count=Coalesce(Subquery(explained, output_field=IntegerField()), 0))
