"""Retention policy for export records' copies of the document: free text and names are removed
from the entry and payload previews; amounts, accounts, tax, references and ids stay, so the
evidence pack and reconciliation still add up."""

from expensico_sync.retention.registry import ANONYMISE, register_policy

from .models import ExportRecord

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
