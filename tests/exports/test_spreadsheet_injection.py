"""Every CSV/XLSX we write neutralises spreadsheet formulas in text cells (OWASP: a leading single
quote), while numbers, negative amounts included, stay numbers: the evidence pack (its manifest
hashes the files as written), the admin's list exports and the scheduled reports."""

import csv
import hashlib
import io
import json
import zipfile
from datetime import date
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from expensico_sync.source.models import Expense
from exports.close.evidence import evidence_pack_build
from exports.models import ExportAttempt, ExportRecord, ReportSchedule, ReviewItem
from exports.reports.services import build
from exports.services.worker import records_work_due

from .conftest import approve, expense

pytestmark = pytest.mark.django_db
EVIL = "=HYPERLINK(\"http://evil.invalid\",\"open\")"


@pytest.fixture
def booked(org, conn, vendor):
    approve(org, expense("exp_1"))
    records_work_due()
    record = ExportRecord.objects.get()
    ExportRecord.objects.filter(pk=record.pk).update(external_id=EVIL, last_error="@SUM(1+1)")
    ExportAttempt.objects.filter(record=record).update(error_message="+cmd|' /C calc'!A0")
    Expense.objects.filter(pk=record.expense_id).update(amount=Decimal("-12.50"))
    ReviewItem.objects.create(organization=org, record=record, reason=ReviewItem.Reason.MAPPING_GAP,
                              detail="-2+3+cmd|' /C calc'!A0",
                              sla_due_at=timezone.now())
    return record


def _csv(blob: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(blob.decode("utf-8-sig"))))


def test_the_evidence_pack_quotes_formulas_in_csv_and_xlsx_and_its_manifest_hashes_the_files_written(conn, booked):
    pack = zipfile.ZipFile(io.BytesIO(evidence_pack_build(connection=conn, period=date(2026, 11, 1))))
    manifest = json.loads(pack.read("manifest.json"))
    for name, sha in manifest["files"].items():
        assert hashlib.sha256(pack.read(name)).hexdigest() == sha, name
    [chain] = _csv(pack.read("chain.csv"))
    assert chain["external_id"] == "'" + EVIL
    assert chain["source_amount"] == "-12.50"                     # a negative amount stays a number
    [attempt] = _csv(pack.read("attempts.csv"))
    assert attempt["error_message"] == "'+cmd|' /C calc'!A0"
    assert _csv(pack.read("review_decisions.csv"))[0]["detail"] == "'-2+3+cmd|' /C calc'!A0"
    sheet = openpyxl.load_workbook(io.BytesIO(pack.read("chain.xlsx"))).active
    headers = [c.value for c in sheet[1]]
    cell = sheet.cell(row=2, column=headers.index("external_id") + 1)
    assert cell.value == "'" + EVIL and cell.data_type == "s"    # text, not a formula
    assert not any(c.data_type == "f" for row in sheet.iter_rows() for c in row)


def test_the_admin_list_export_quotes_formulas(admin_client, booked):
    response = admin_client.post(reverse("admin:exports_exportrecord_export"), {"format": "0", "resource": "0"})
    [row] = _csv(response.content)
    assert row["external_id"] == "'" + EVIL and row["last_error"] == "'@SUM(1+1)"
    items = admin_client.post(reverse("admin:exports_reviewitem_export"), {"format": "0", "resource": "0"})
    assert _csv(items.content)[0]["detail"] == "'-2+3+cmd|' /C calc'!A0"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_scheduled_report_quotes_formulas(org, booked, fmt):
    schedule = ReportSchedule.objects.create(organization=org, report="review_items", format=fmt, day=1)
    _name, content = build(schedule, date(2026, 12, 1))
    if fmt == "csv":
        assert _csv(content)[0]["detail"] == "'-2+3+cmd|' /C calc'!A0"
    else:
        sheet = openpyxl.load_workbook(io.BytesIO(content)).active
        assert "'-2+3+cmd|' /C calc'!A0" in [c.value for c in sheet[2]]
        assert not any(c.data_type == "f" for row in sheet.iter_rows() for c in row)
