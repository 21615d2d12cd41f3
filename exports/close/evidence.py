"""The auditor's evidence pack: one zip per connection × month, written as a stream.

Rows are read with `.iterator(chunk_size=…)` and written straight into a zip member as CSV, the
SHA-256 of each member computed while it is written; XLSX beside a CSV only when the part has at
most `XLSX_MAX_ROWS` rows (otherwise the manifest says the CSV is the complete copy). Then the
close's checklist as signed, every registered `@evidence_part`, and `manifest.json` last, with
the SHA-256 of every other file. Memory stays bounded by the chunk size, not by the month.

Text cells a spreadsheet would run as a formula (= + - @ TAB CR) are written with a leading single
quote (`expensico_sync.core.spreadsheet`); the manifest hashes the files as written, quotes included."""

import csv
import hashlib
import io
import json
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from datetime import date
from typing import IO, Any

import openpyxl
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from expensico_sync.core.spreadsheet import row_safe

from ..models import ExportAttempt, ExportRecord, MonthClose, ReviewItem
from . import checklist as _builtin  # noqa: F401  (registers the built-in items)
from .checklist import month_range
from .registry import evidence_parts
from .resources import AttemptResource, ChainResource, ReviewItemResource
from .services import checklist_compute

CHUNK = 2000              # rows per database round trip (and per prefetch batch)
XLSX_MAX_ROWS = 20_000    # above this a part is CSV only: an XLSX is built whole in memory
Progress = Callable[[int], None]


def month_records(connection, period: date):
    first, last = month_range(period)
    in_month = Q(document_date__range=(first, last)) | Q(posting_date__range=(first, last))
    return (ExportRecord.objects.filter(connection=connection).filter(in_month)
            .select_related("expense__report", "card_funding", "reimbursement", "statement_line", "reverses")
            .prefetch_related(Prefetch("export_attempts", ExportAttempt.objects.order_by("number")),
                              Prefetch("review_items", ReviewItem.objects.order_by("id")), "expense__receipts")
            .order_by("document_date", "id"))


def tabular_parts(connection, period: date) -> list[tuple[str, Any, QuerySet]]:
    """(name, resource, queryset) of the pack's tables, in the order they are written."""
    records = month_records(connection, period)
    ids = records.values("pk")
    return [
        ("chain", ChainResource(), records),
        ("attempts", AttemptResource(), ExportAttempt.objects.filter(record__in=ids).select_related("record")
         .order_by("record_id", "number")),
        ("review_decisions", ReviewItemResource(), ReviewItem.objects.filter(record__in=ids).select_related("record")
         .order_by("id")),
    ]


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


class _Member:
    """A zip member being written: hashes and counts the uncompressed bytes on their way in."""

    def __init__(self, pack: zipfile.ZipFile, name: str):
        self.name, self.sha, self.size = name, hashlib.sha256(), 0
        self._stream = pack.open(name, "w", force_zip64=True)

    def write(self, data: bytes) -> None:
        self.sha.update(data)
        self.size += len(data)
        self._stream.write(data)

    def close(self) -> str:
        self._stream.close()
        return self.sha.hexdigest()


class PackWriter:
    """Writes members into an open zip file and keeps each one's SHA-256 for the manifest."""

    def __init__(self, fileobj: IO[bytes], progress: Progress | None = None):
        self.zip = zipfile.ZipFile(fileobj, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True)
        self.hashes: dict[str, str] = {}
        self.notes: dict[str, str] = {}
        self.rows_done = 0
        self._progress = progress

    def add(self, name: str, content: bytes) -> None:
        if name in self.hashes or name == "manifest.json":
            raise ValueError(f"evidence pack file names clash: {name!r} is written twice")
        member = _Member(self.zip, name)
        member.write(content)
        self.hashes[name] = member.close()

    def table(self, name: str, resource, queryset, *, rows: int) -> None:
        """`name`.csv streamed from the queryset; `name`.xlsx alongside (openpyxl's write-only mode,
        saved through a temporary file) when `rows` ≤ XLSX_MAX_ROWS."""
        if f"{name}.csv" in self.hashes:
            raise ValueError(f"evidence pack file names clash: {name}.csv is written twice")
        headers = resource.get_export_headers()
        book = openpyxl.Workbook(write_only=True) if rows <= XLSX_MAX_ROWS else None
        sheet = book.create_sheet(name[:31]) if book is not None else None
        member, text = _Member(self.zip, f"{name}.csv"), io.StringIO()
        writer = csv.writer(text)
        writer.writerow(headers)
        if sheet is not None:
            sheet.append(headers)
        count = 0
        for count, obj in enumerate(queryset.iterator(chunk_size=CHUNK), start=1):
            row = row_safe(resource.export_resource(obj))     # no formulas (resources quote them too)
            writer.writerow(row)
            if sheet is not None:
                sheet.append(row)
            if count % CHUNK == 0:
                self._flush(member, text)
                self._advance(CHUNK)
        self._flush(member, text)
        self._advance(count % CHUNK)
        self.hashes[member.name] = member.close()
        if book is not None:
            self._workbook(f"{name}.xlsx", book)
        else:
            self.notes[f"{name}.xlsx"] = (f"not written: {rows:,} rows is more than {XLSX_MAX_ROWS:,} "
                                          f"(an XLSX is assembled whole); {name}.csv is complete")

    def _workbook(self, name: str, book) -> None:
        if name in self.hashes:
            raise ValueError(f"evidence pack file names clash: {name!r} is written twice")
        with tempfile.TemporaryFile(suffix=".xlsx") as scratch:
            book.save(scratch)
            scratch.seek(0)
            member = _Member(self.zip, name)
            for chunk in iter(lambda: scratch.read(1 << 20), b""):
                member.write(chunk)
            self.hashes[name] = member.close()

    @staticmethod
    def _flush(member: _Member, text: io.StringIO) -> None:
        member.write(text.getvalue().encode())
        text.seek(0)
        text.truncate()

    def _advance(self, rows: int) -> None:
        self.rows_done += rows
        if self._progress and rows:
            self._progress(self.rows_done)

    def finish(self, manifest: dict) -> None:
        self.zip.writestr("manifest.json", _json({**manifest, "files": self.hashes, "notes": self.notes}))
        self.zip.close()


def evidence_pack_write(*, connection, period: date, fileobj: IO[bytes], progress: Progress | None = None,
                        on_total: Callable[[int], None] | None = None) -> None:
    """Write the pack into `fileobj` (a temporary file in the task; bytes in memory for small tests)."""
    parts = tabular_parts(connection, period)
    counts = [queryset.count() for _, _, queryset in parts]
    if on_total:
        on_total(sum(counts))
    writer = PackWriter(fileobj, progress)
    for (name, resource, queryset), rows in zip(parts, counts, strict=True):
        writer.table(name, resource, queryset, rows=rows)
    writer.add("checklist.json", _checklist(connection, period))
    for part in evidence_parts():
        for name, content in part.build(connection, period):
            writer.add(f"{part.key}/{name}", content)
    writer.finish({"connection": {"id": connection.pk, "name": connection.name, "system": connection.system},
                   "organization": connection.organization.slug, "period": f"{period:%Y-%m}",
                   "generated_at": timezone.now()})


def evidence_pack_build(*, connection, period: date) -> bytes:
    """The whole pack as bytes: for small months only (tests, previews); the task streams to a file."""
    buffer = io.BytesIO()
    evidence_pack_write(connection=connection, period=period, fileobj=buffer)
    return buffer.getvalue()


def file_sha256(chunks: Iterable[bytes]) -> tuple[str, int]:
    sha, size = hashlib.sha256(), 0
    for chunk in chunks:
        sha.update(chunk)
        size += len(chunk)
    return sha.hexdigest(), size


def evidence_filename(connection, period: date) -> str:
    return f"evidence-{connection.organization.slug}-{connection.system}-{connection.pk}-{period:%Y-%m}.zip"
