"""Verification: the vendor's copy read back by reference, hashed, or a vendor_mismatch item."""

import hashlib
from datetime import date
from decimal import Decimal

import pytest

from connectors.base import VendorDocument, VendorLine
from exports.models import ExportRecord, ReviewItem
from exports.reconcile.documents import canonical_json, content_hash
from exports.reconcile.verify import records_verify_due
from exports.services.review import review_item_resolve

from . import fake_ledger
from .month import a_month

pytestmark = pytest.mark.django_db


def ledger_records():
    return ExportRecord.objects.exclude(kind="statement_transaction")


def test_every_exported_document_is_verified_in_batches_with_the_hash_of_the_vendor_copy(org, books, settings):
    settings.EXPORTS_VERIFY_BATCH = 4
    a_month(org)
    counts = records_verify_due()
    assert counts == {"connections": 1, "verified": 7, "requests": 3}   # batches of 4 and 3, pages of 3
    for record in ledger_records():
        assert record.verified_at is not None and len(record.vendor_hash) == 64
    assert records_verify_due() == {"connections": 1}   # nothing due: nothing asked


def test_deleted_changed_and_duplicated_documents_open_vendor_mismatch_items(org, books):
    a_month(org)
    by_ref = {r.reference: r for r in ledger_records()}
    deleted, edited, duplicated = (by_ref[f"EXPENSICO-{s}-v1"] for s in ("exp_1", "exp_2", "fnd_1"))
    fake_ledger.tamper_delete(books, deleted.external_id)
    fake_ledger.tamper_edit_amount(books, edited.external_id, Decimal("41.00"))
    fake_ledger.tamper_duplicate(books, duplicated.external_id)
    counts = records_verify_due()
    assert (counts["verified"], counts["deleted"], counts["changed"], counts["duplicated"]) == (4, 1, 1, 1)
    items = {i.record_id: i for i in ReviewItem.objects.filter(reason="vendor_mismatch")}
    assert set(items) == {deleted.pk, edited.pk, duplicated.pk}
    assert "amount 40.00 → 41.00" in items[edited.pk].detail
    assert ExportRecord.objects.get(pk=edited.pk).status == "exported"     # still booked
    # A person acknowledges; the record is not asked about again by verification.
    review_item_resolve(item=items[edited.pk], resolution="acknowledged", note="fixed in the vendor")
    assert records_verify_due() == {"connections": 1}


def test_the_content_hash_is_canonical():
    lines = (VendorLine(account="a", debit=Decimal("1.50")), VendorLine(account="b", credit=Decimal("1.5")))
    doc = VendorDocument(reference="R", external_id="1", date=date(2026, 11, 1), currency="sar",
                         amount=Decimal("1.500"), status="posted", lines=lines, raw={"updated": "now"})
    same = VendorDocument(reference="R", external_id="1", date=date(2026, 11, 1), currency="SAR",
                          amount=Decimal("1.5"), status="posted", lines=lines[::-1], raw={"updated": "later"})
    assert content_hash(doc) == content_hash(same) == hashlib.sha256(canonical_json(doc).encode()).hexdigest()
    changed = VendorDocument(reference="R", external_id="1", date=date(2026, 11, 1), currency="SAR",
                             amount=Decimal("1.51"), status="posted", lines=lines)
    assert content_hash(changed) != content_hash(doc)


def test_a_vendor_that_bills_requests_waits_for_a_full_batch_or_a_day(org):
    from datetime import timedelta

    from django.utils import timezone

    from .conftest import ledger_connection

    ledger_connection(org, system="fake_budget", name="Billed books")
    a_month(org)
    assert records_verify_due() == {"connections": 1, "waiting": 7}
    assert not ledger_records().filter(verified_at__isnull=False).exists()
    ledger_records().update(exported_at=timezone.now() - timedelta(hours=25))
    assert records_verify_due()["verified"] == 7
