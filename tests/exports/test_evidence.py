"""The evidence pack: one zip per connection × month whose manifest vouches for every file."""

import csv
import hashlib
import io
import json
import zipfile
from datetime import date

import openpyxl
import pytest

from exports.close import registry
from exports.close.evidence import evidence_pack_build
from exports.close.services import month_close_sign_off
from exports.models import ReviewItem
from exports.services.review import review_item_resolve
from exports.services.worker import records_work_due

from .conftest import approve, expense

pytestmark = pytest.mark.django_db
NOV = date(2026, 11, 1)


@pytest.fixture
def extra_part():
    @registry.evidence_part("test_part", order=999)
    def build(connection, period):
        return [("note.txt", f"{connection.pk} {period:%Y-%m}".encode())]
    yield
    registry._parts.pop("test_part")


def unzip(blob):
    pack = zipfile.ZipFile(io.BytesIO(blob))
    return {name: pack.read(name) for name in pack.namelist()}


def test_pack_chains_every_record_and_its_manifest_verifies(org, conn, vendor, admin_user, extra_part):
    approve(org, expense("exp_1"), expense("exp_2", category="UNMAPPED"))
    records_work_due(limit=10)
    item = ReviewItem.objects.get()
    review_item_resolve(item=item, resolution=ReviewItem.Resolution.SKIPPED, by=admin_user, note="personal")
    month_close_sign_off(organization=org, period=NOV, by=admin_user, comment="done")

    files = unzip(evidence_pack_build(connection=conn, period=NOV))
    manifest = json.loads(files.pop("manifest.json"))
    assert set(manifest["files"]) == set(files)
    for name, content in files.items():
        assert hashlib.sha256(content).hexdigest() == manifest["files"][name], name
    assert {"chain.csv", "chain.xlsx", "attempts.csv", "review_decisions.csv", "checklist.json",
            "test_part/note.txt"} <= set(files)

    rows = {row["source_id"]: row for row in csv.DictReader(io.StringIO(files["chain.csv"].decode()))}
    booked = rows["exp_1"]
    assert booked["status"] == "exported" and booked["external_id"].startswith("doc-")
    assert booked["approved_by"] == "Omar" and booked["source_amount"] == "115.00"
    assert booked["receipt_sha256"] == hashlib.sha256(b"exp_1").hexdigest()
    assert "#1 exported" in booked["attempts_log"] and booked["mapping_version"]
    assert "skipped by admin" in rows["exp_2"]["review_decisions"] and "(personal)" in rows["exp_2"]["review_decisions"]
    sheet = openpyxl.load_workbook(io.BytesIO(files["chain.xlsx"])).active
    assert sheet.max_row == 3

    signed = json.loads(files["checklist.json"])
    assert signed["status"] == "signed_off" and signed["signed_off_by"] == "admin" and signed["comment"] == "done"
    assert signed["items"][0]["key"] == "expenses_settled"


def test_a_tampered_file_no_longer_matches_the_manifest(org, conn, vendor):
    approve(org, expense("exp_1"))
    records_work_due(limit=10)
    files = unzip(evidence_pack_build(connection=conn, period=NOV))
    manifest = json.loads(files["manifest.json"])
    tampered = files["chain.csv"].replace(b"115.00", b"15.00")
    assert hashlib.sha256(tampered).hexdigest() != manifest["files"]["chain.csv"]
