"""The link between an exported document and its reversal, as both export records show it (admin
and API): our two references, the vendor's two ids, and how the vendor links them (the note the
connector left on the reversal's booking, e.g. Workday's Cancel_Reverses_Journal_Entry_Reference)."""

from .messages import said
from .models import ExportAttempt, ExportRecord


def _how(reversal: ExportRecord) -> str:
    attempt = (ExportAttempt.objects.filter(record=reversal, outcome__in=[ExportAttempt.Outcome.EXPORTED, ExportAttempt.Outcome.RECONCILED])
               .order_by("-number").only("notes").first())
    notes = [n for n in (attempt.notes if attempt else []) if "revers" in n.lower()]
    return f": {notes[0]}" if notes else ""


def reversal_link(record: ExportRecord) -> str:
    """"" for a record that is neither a reversal nor reversed; else a message (English for the API,
    the admin shows it in the reader's language)."""
    if record.reverses_id:
        original = record.reverses
        assert original is not None
        return said("reverses", original=original.reference, original_id=original.external_id or "—",
                    external_id=record.external_id or "—", how=_how(record))
    reversal = (ExportRecord.objects.filter(reverses=record).exclude(status=ExportRecord.Status.CANCELLED)
                .order_by("-id").first())
    if reversal is None:
        return ""
    return said("reversed_by", reversal=reversal.reference, external_id=reversal.external_id or "—",
                status={"status": reversal.status}, how=_how(reversal))
