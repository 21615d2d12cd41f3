"""An anonymised month still reconciles to zero, and its evidence pack still verifies."""

import csv
import hashlib
import io
import json
import zipfile
from datetime import UTC, date, datetime

import pytest

from expensico_sync.retention.services import apply
from expensico_sync.source.models import Expense
from exports.close.evidence import evidence_pack_build
from exports.reconcile.run import reconciliation_create, reconciliation_execute

from .month import a_month

pytestmark = pytest.mark.django_db
NOV = date(2026, 11, 1)
LATER = datetime(2034, 1, 1, tzinfo=UTC)     # every November 2026 row is past its retention period


def reconcile(books):
    run = reconciliation_create(connection=books, period=NOV)
    reconciliation_execute(reconciliation_id=run.pk)
    run.refresh_from_db()
    return run


def verified(pack: bytes) -> dict[str, bytes]:
    archive = zipfile.ZipFile(io.BytesIO(pack))
    files = {name: archive.read(name) for name in archive.namelist()}
    manifest = json.loads(files.pop("manifest.json"))
    assert {name: hashlib.sha256(data).hexdigest() for name, data in files.items()} == manifest["files"]
    return files


def test_an_anonymised_month_still_reconciles_and_its_evidence_still_verifies(org, books):
    a_month(org)
    before = reconcile(books)
    assert before.differences.count() == 0
    chain_before = verified(evidence_pack_build(connection=books, period=NOV))["chain.csv"]

    steps = {s.policy.key: s.applied for s in apply(org, now=LATER)}
    assert steps["source.personal_data"] > 0 and steps["exports.previews"] > 0
    assert set(Expense.objects.filter(organization=org).values_list("merchant", flat=True)) == {"(anonymised)"}

    after = reconcile(books)
    assert after.differences.count() == 0
    assert [(r.account_kind, r.currency, r.expensico, r.booked, r.vendor) for r in after.rows.order_by("pk")] == \
        [(r.account_kind, r.currency, r.expensico, r.booked, r.vendor) for r in before.rows.order_by("pk")]
    chain_after = verified(evidence_pack_build(connection=books, period=NOV))["chain.csv"]
    keep = ("source_id", "source_amount", "source_currency", "document_date", "reference", "external_id",
            "verification_hash", "mapping_version", "receipt_sha256")
    rows = lambda data: [{k: r[k] for k in keep} for r in csv.DictReader(io.StringIO(data.decode()))]  # noqa: E731
    assert len(rows(chain_before)) == 7 and all(r["source_amount"] for r in rows(chain_before))
    assert rows(chain_after) == rows(chain_before)
