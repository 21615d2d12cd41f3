"""Retention policies of the exports app.

- Export records' copies of the document: free text and names are removed from the entry and
  payload previews; amounts, accounts, tax, references and ids stay, so the evidence pack and
  reconciliation still add up.
- The status-change log: the worker's routine steps (a retry scheduled, a record put back to
  pending) of settled records go after two years. What an auditor asks about stays for good: every
  change a person or an API key made, and every change into exported, needs review, outcome
  unknown, cancelled or superseded, with its reason. The evidence pack of a signed month reads
  none of the removed rows (its attempts table keeps each try and the vendor's answer), so it is
  unchanged by this policy."""

from expensico_sync.retention.registry import ANONYMISE, DELETE, register_policy

from .models import ExportRecord, StatusChange
from .transitions import Status

TEXT_KEYS = {"description", "description_ar", "merchant", "employee", "memo", "title", "name", "email"}
MARK = "(anonymised)"


def scrub(value):
    if isinstance(value, dict):
        return {k: (MARK if k in TEXT_KEYS and isinstance(v, str) and v else scrub(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    return value


def _rows(organization, cutoff):
    return (ExportRecord.objects.filter(organization=organization, document_date__lt=cutoff.date())
            .exclude(entry_preview__isnull=True).exclude(entry_preview__description=MARK))


def _apply(qs) -> int:
    done = 0
    for record in qs.only("pk", "entry_preview", "payload_preview").iterator():
        ExportRecord.objects.filter(pk=record.pk).update(entry_preview={**scrub(record.entry_preview),
                                                                        "description": MARK},
                                                         payload_preview=scrub(record.payload_preview))
        done += 1
    return done


register_policy("exports.previews", "Names and free text in export records", action=ANONYMISE, default_months=84,
                rows=_rows, apply=_apply, keeps="amounts, accounts, tax, dates, references, external ids, hashes")


SETTLED = (Status.EXPORTED, Status.CANCELLED, Status.SUPERSEDED)        # nothing will happen to them any more
ROUTINE = (Status.RETRY, Status.PENDING, Status.IN_PROGRESS)              # the worker's own steps on the way


def _routine_steps(organization, cutoff):
    return StatusChange.objects.filter(record__organization=organization, record__status__in=SETTLED,
                                       at__lt=cutoff, actor="", to_status__in=ROUTINE)


register_policy("exports.status_log", "Routine worker steps in export records' status history", action=DELETE,
                default_months=24, rows=_routine_steps,
                apply=lambda qs: StatusChange.objects.filter(pk__in=qs.values("pk")).delete()[0],
                keeps="every change made by a person or an API key, and every change into exported, needs review, "
                      "outcome unknown, cancelled or superseded, with its reason; the attempts keep each try")
