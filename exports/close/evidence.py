"""The auditor's evidence pack: one zip per connection × month.

Tabular parts in CSV and XLSX (import-export resources), the close's checklist as signed,
every registered `@evidence_part`, and `manifest.json` with the SHA-256 of every other file."""

import hashlib
import io
import json
import zipfile
from datetime import date

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Prefetch, Q
from django.utils import timezone

from ..models import ExportAttempt, ExportRecord, MonthClose, ReviewItem
from . import checklist as _builtin  # noqa: F401  (registers the built-in items)
from .checklist import month_range
from .registry import evidence_parts
from .resources import AttemptResource, ChainResource, ReviewItemResource
from .services import checklist_compute


def month_records(connection, period: date):
    first, last = month_range(period)
    in_month = Q(document_date__range=(first, last)) | Q(posting_date__range=(first, last))
    return (ExportRecord.objects.filter(connection=connection).filter(in_month)
            .select_related("expense__report", "card_funding", "reimbursement", "statement_line", "reverses")
            .prefetch_related(Prefetch("export_attempts", ExportAttempt.objects.order_by("number")),
                              Prefetch("review_items", ReviewItem.objects.order_by("id")), "expense__receipts")
            .order_by("document_date", "id"))


def _tabular(name: str, resource, queryset) -> list[tuple[str, bytes]]:
    dataset = resource.export(queryset=queryset)
    return [(f"{name}.csv", dataset.export("csv").encode()), (f"{name}.xlsx", dataset.export("xlsx"))]


def _json(value) -> bytes:
    return json.dumps(value, cls=DjangoJSONEncoder, indent=2, sort_keys=True, ensure_ascii=False).encode()


def _checklist(connection, period) -> bytes:
    close = MonthClose.objects.filter(organization_id=connection.organization_id, period=period).first()
    if close and close.locked:
        signed = {"status": close.status, "signed_off_by": close.signed_off_by_label,
                  "signed_off_at": close.signed_off_at, "comment": close.comment, "items": close.checklist}
    else:
        signed = {"status": close.status if close else MonthClose.Status.OPEN, "signed_off_by": "",
                  "signed_off_at": None, "comment": "",
                  "items": checklist_compute(organization=connection.organization, period=period)}
    history = [{"status": h.status, "at": h.history_date, "by": str(h.history_user or ""),
                "reason": h.history_change_reason or ""}
               for h in close.history.order_by("history_id")] if close else []
    return _json({"period": f"{period:%Y-%m}", **signed, "history": history})


def evidence_files(*, connection, period: date) -> list[tuple[str, bytes]]:
    records = month_records(connection, period)
    files = _tabular("chain", ChainResource(), records)
    files += _tabular("attempts", AttemptResource(),
                      ExportAttempt.objects.filter(record__in=records.values("pk")).select_related("record")
                      .order_by("record_id", "number"))
    files += _tabular("review_decisions", ReviewItemResource(),
                      ReviewItem.objects.filter(record__in=records.values("pk")).select_related("record")
                      .order_by("id"))
    files.append(("checklist.json", _checklist(connection, period)))
    for part in evidence_parts():
        files += [(f"{part.key}/{name}", content) for name, content in part.build(connection, period)]
    return files


def evidence_pack_build(*, connection, period: date) -> bytes:
    files = evidence_files(connection=connection, period=period)
    names = [name for name, _ in files]
    if len(set(names)) != len(names) or "manifest.json" in names:
        raise ValueError(f"evidence pack file names clash: {sorted(names)}")
    manifest = {"connection": {"id": connection.pk, "name": connection.name, "system": connection.system},
                "organization": connection.organization.slug, "period": f"{period:%Y-%m}",
                "generated_at": timezone.now(),
                "files": {name: hashlib.sha256(content).hexdigest() for name, content in files}}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as pack:
        for name, content in files:
            pack.writestr(name, content)
        pack.writestr("manifest.json", _json(manifest))
    return buffer.getvalue()


def evidence_filename(connection, period: date) -> str:
    return f"evidence-{connection.organization.slug}-{connection.system}-{connection.pk}-{period:%Y-%m}.zip"
