"""What reconciliation contributes to the month's close: a checklist item (every connection that
reads back is reconciled, and each difference is zero or explained) and the reconciliation CSVs
in the evidence pack."""

from datetime import date

from django.urls import reverse
from django.utils.translation import gettext_noop

from connectors.models import Connection
from exports.close.registry import ItemResult, checklist_item, detail_line, evidence_part

from .resources import ReconciliationDifferenceResource, ReconciliationRowResource
from .selectors import difference_counts, reads_back, reconciliation_latest


@checklist_item("reconciliations", gettext_noop("Reconciliations are zero or each difference is explained"), order=60)
def reconciliations_explained(organization, period: date) -> ItemResult:
    details: list[tuple[str, dict]] = []
    not_ok, differences, explained = 0, 0, 0
    for connection in Connection.objects.filter(organization=organization).order_by("name"):
        if not reads_back(connection):
            continue
        run = reconciliation_latest(connection=connection, period=period)
        if run is None:
            not_ok += 1
            details.append(detail_line(gettext_noop("{connection}: not reconciled for {period}"),
                                       connection=connection.name, period=f"{period:%Y-%m}"))
            continue
        total, done = difference_counts(run)
        differences, explained = differences + total, explained + done
        not_ok += total - done
        details.append(detail_line(gettext_noop("{connection}: {total} differences, {explained} explained"),
                                   connection=connection.name, total=total, explained=done))
    url = f"{reverse('admin:exports_reconciliation_changelist')}?period={period.isoformat()}"
    words = gettext_noop("{differences} differences, {explained} explained") if details else gettext_noop("no connection reads back")
    values = {"differences": differences, "explained": explained}
    return ItemResult(ok=not_ok == 0, summary=words.format(**values), count=not_ok, url=url,
                      details=tuple(text for text, _words in details), detail_words=tuple(w for _text, w in details),
                      words=words, values=values)


@evidence_part("reconciliation", order=40)
def reconciliation_csv(connection, period: date) -> list[tuple[str, bytes]]:
    run = reconciliation_latest(connection=connection, period=period)
    if run is None:
        return [("reconciliation/NOT-RECONCILED.txt", f"No finished reconciliation for {period:%Y-%m}.\n".encode())]
    rows = ReconciliationRowResource().export(run.rows.select_related("reconciliation__connection"))
    diffs = ReconciliationDifferenceResource().export(run.differences.all())
    return [("reconciliation/rows.csv", rows.csv.encode()), ("reconciliation/differences.csv", diffs.csv.encode())]
