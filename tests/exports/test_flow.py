"""Triggers → records → worker → vendor, through the real mirror and mappings, with a fake vendor."""

from decimal import Decimal

import pytest

from exports.models import ExportAttempt, ExportRecord, ReviewItem
from exports.services.worker import records_work_due
from exports.transitions import Status

from .conftest import approve, cancel, expense

pytestmark = pytest.mark.django_db


def work():
    return records_work_due(limit=100)


def test_approval_creates_one_record_per_connection_and_expense_and_exports_it(org, conn, vendor):
    approve(org, expense("exp_1"), expense("exp_2", amount="40.00", category="MEALS"))
    records = ExportRecord.objects.order_by("source_id")
    assert [(r.kind, r.source_id, r.source_version, r.status) for r in records] == [
        ("expense", "exp_1", 1, "pending"), ("expense", "exp_2", 1, "pending")]
    assert records[0].reference == "EXPENSICO-exp_1-v1"

    assert work() == {"exported": 2}
    exp1 = ExportRecord.objects.get(source_id="exp_1")
    assert exp1.status == Status.EXPORTED and exp1.external_id.startswith("doc-")
    assert exp1.entry_preview["reference"] == "EXPENSICO-exp_1-v1"
    assert exp1.mapping_version
    assert vendor.documents["EXPENSICO-exp_1-v1"]["entry"].gross == Decimal("115.00")
    attempt = exp1.export_attempts.get()
    assert attempt.outcome == ExportAttempt.Outcome.EXPORTED and attempt.request_id


def test_replayed_approval_creates_nothing_new(org, conn):
    approve(org, expense("exp_1"))
    approve(org, expense("exp_1"))
    assert ExportRecord.objects.count() == 1


def test_the_doorbell_runs_the_worker_on_commit(org, conn, vendor, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        approve(org, expense("exp_1"))
    assert ExportRecord.objects.get().status == Status.EXPORTED  # Q_CLUSTER sync runs the task inline


def test_two_connections_each_get_a_record(org, conn):
    from .conftest import make_connection

    make_connection(org, name="Second books")
    approve(org, expense("exp_1"))
    assert ExportRecord.objects.count() == 2


def test_mapping_gap_goes_to_review_and_a_mapping_fix_requeues_it(org, conn, vendor,
                                                                  django_capture_on_commit_callbacks):
    from mappings.models import CategoryMapping
    from mappings.signals import mappings_changed

    approve(org, expense("exp_1", category="HOTEL"))
    assert work() == {"needs_review": 1}
    item = ReviewItem.objects.get()
    assert item.reason == ReviewItem.Reason.MAPPING_GAP
    assert "HOTEL" in item.detail and item.context["items"][0]["kind"] == "category"
    assert vendor.pushes == 0

    CategoryMapping.objects.create(connection=conn, category_code="HOTEL", account="acc-hotel")
    # mappings sends this after commit (never, inside a test transaction): send it as it would.
    with django_capture_on_commit_callbacks(execute=True):
        mappings_changed.send(sender=None, organization=org, connection=conn, kinds=frozenset({"category"}))
    item.refresh_from_db()
    assert item.resolution == ReviewItem.Resolution.FIXED_MAPPING
    assert ExportRecord.objects.get().status == Status.EXPORTED


def test_hold_rule_for_missing_receipt_parks_the_expense(org, conn, vendor):
    from mappings.models import HoldRule

    HoldRule.objects.create(connection=conn, name="No receipt", missing_receipt=True)
    approve(org, expense("exp_1", receipts=[]), expense("exp_2"))
    assert work() == {"needs_review": 1, "exported": 1}
    item = ReviewItem.objects.get()
    assert item.reason == ReviewItem.Reason.MISSING_RECEIPT and item.record.source_id == "exp_1"


def test_higher_version_before_export_supersedes(org, conn, vendor):
    approve(org, expense("exp_1"))
    approve(org, expense("exp_1", version=2, amount="120.00"))
    v1, v2 = ExportRecord.objects.order_by("source_version")
    assert v1.status == Status.SUPERSEDED and v2.status == Status.PENDING
    work()
    assert list(vendor.documents) == ["EXPENSICO-exp_1-v2"]


def test_higher_version_after_export_reverses_and_re_exports(org, conn, vendor):
    approve(org, expense("exp_1"))
    work()
    approve(org, expense("exp_1", version=2, amount="120.00"))
    kinds = sorted(ExportRecord.objects.values_list("kind", "source_version", "status"))
    assert kinds == [("expense", 1, "exported"), ("expense", 2, "pending"), ("reversal", 1, "pending")]
    work()
    reversal = ExportRecord.objects.get(kind="reversal")
    assert reversal.status == Status.EXPORTED
    assert reversal.reference == "EXPENSICO-exp_1-v1-R"
    assert vendor.documents["EXPENSICO-exp_1-v1"]["live"] is False
    assert vendor.documents["EXPENSICO-exp_1-v2"]["live"] is True
    mirrored = vendor.documents["EXPENSICO-exp_1-v1-R"]["entry"]
    assert mirrored.total_debit == mirrored.total_credit == Decimal("115.00")


def test_cancel_before_export_cancels_the_record(org, conn, vendor):
    approve(org, expense("exp_1"))
    cancel(org)
    assert ExportRecord.objects.get().status == Status.CANCELLED
    assert work() == {}
    assert vendor.pushes == 0


def test_cancel_after_export_creates_a_reversal(org, conn, vendor):
    approve(org, expense("exp_1"))
    work()
    cancel(org)
    reversal = ExportRecord.objects.get(kind="reversal")
    assert reversal.reverses.status == Status.EXPORTED
    work()
    reversal.refresh_from_db()
    assert reversal.status == Status.EXPORTED
    assert vendor.reversals == [reversal.reverses.external_id]


def test_cancel_while_outcome_unknown_reverses_once_the_original_is_found(org, conn, vendor):
    approve(org, expense("exp_1"))
    vendor.faults = ["unknown_committed"]
    assert work() == {"outcome_unknown": 1}
    cancel(org)
    original = ExportRecord.objects.get(kind="expense")
    assert original.status == Status.OUTCOME_UNKNOWN
    reversal = ExportRecord.objects.get(kind="reversal")
    ExportRecord.objects.filter(pk=original.pk).update(next_attempt_at=original.created_at)
    work()  # the original reconciles to exported (found by reference); the reversal waits for it
    original.refresh_from_db()
    assert original.status == Status.EXPORTED and vendor.pushes == 1
    ExportRecord.objects.filter(pk=reversal.pk).update(next_attempt_at=original.created_at)
    work()
    reversal.refresh_from_db()
    assert reversal.status == Status.EXPORTED
    assert vendor.documents["EXPENSICO-exp_1-v1"]["live"] is False


def test_card_funding_unload_and_reimbursement_become_ledger_bank_transactions(org, conn, vendor):
    from .conftest import deliver

    funding = {"id": "fnd_1", "card": {"id": "card_1", "last4": "4242"}, "employee": {"id": "emp_1", "name": "Noura"},
               "amount": "500.00", "currency": "SAR", "date": "2026-11-01", "bank_reference": "TRX1",
               "description": ""}
    deliver(org, "card.funded", {"funding": funding})
    deliver(org, "card.unloaded", {"funding": {**funding, "id": "fnd_2", "amount": "50.00"}})
    deliver(org, "reimbursement.paid", {"reimbursement": {
        "id": "rmb_1", "employee": {"id": "emp_1", "name": "Noura"}, "report_ids": [], "amount": "115.00",
        "currency": "SAR", "date": "2026-11-04", "bank_reference": "TRX2", "description": ""}})
    assert set(ExportRecord.objects.values_list("kind", flat=True)) == {"ledger_bank_transaction"}
    work()
    docs = {ref: d["entry"] for ref, d in vendor.documents.items()}
    funded, unloaded, paid = docs["EXPENSICO-fnd_1-v1"], docs["EXPENSICO-fnd_2-v1"], docs["EXPENSICO-rmb_1-v1"]
    assert funded.amount == Decimal("-500.00") and funded.bank_account == "bank-1"
    assert {line.account for line in funded.lines} == {"bank-1", "acc-balance"}
    assert unloaded.amount == Decimal("50.00")
    assert paid.amount == Decimal("-115.00")
    assert {line.account for line in paid.lines} == {"bank-1", "acc-claims"}


def test_statement_lines_are_deduplicated_by_line_id(org, conn, vendor):
    from .conftest import deliver

    data = {"bank_account": {"id": "ba_1", "name": "Funding", "currency": "SAR", "iban": ""},
            "lines": [{"id": "ln_1", "date": "2026-11-01", "amount": "-500.00", "balance": "9500.00",
                       "description": "card top-up", "reference": "r1", "bank_reference": "TRX1"}]}
    deliver(org, "bank_statement.published", data)
    deliver(org, "bank_statement.published", data)
    record = ExportRecord.objects.get()
    assert record.kind == "statement_transaction"
    work()
    assert vendor.documents["EXPENSICO-ln_1-v1"]["entry"].amount == Decimal("-500.00")


def test_cancel_while_in_flight_that_then_fails_closes_everything(org, conn, vendor):
    from exports.services.claiming import records_claim_due
    from exports.services.worker import record_work

    approve(org, expense("exp_1"))
    [record] = records_claim_due(limit=10)  # a worker holds it ...
    cancel(org)                              # ... when the cancellation arrives: a reversal waits
    vendor.faults = ["permanent"]
    assert record_work(record=record) == "cancelled"  # the worker sees the source moved on first
    work()
    statuses = dict(ExportRecord.objects.values_list("kind", "status"))
    assert statuses == {"expense": "cancelled", "reversal": "cancelled"}
    assert not ReviewItem.objects.filter(resolved_at__isnull=True).exists()
    assert vendor.pushes == 0


def test_a_reversal_for_a_record_that_ended_in_review_cancels_it_and_closes_the_item(org, conn, vendor,
                                                                                    monkeypatch):
    from exports.services.claiming import records_claim_due
    from exports.services.worker import record_work

    approve(org, expense("exp_1"))
    [record] = records_claim_due(limit=10)
    cancel(org)
    # The race: the worker checked the source just before the cancellation committed.
    monkeypatch.setattr("exports.services.gates.source_moot", lambda record: None)
    vendor.faults = ["permanent"]
    assert record_work(record=record) == "needs_review"
    work()
    statuses = dict(ExportRecord.objects.values_list("kind", "status"))
    assert statuses == {"expense": "cancelled", "reversal": "cancelled"}
    item = ReviewItem.objects.get()
    assert item.resolved_at and item.resolution == "skipped"


def test_an_outbox_with_reversals_can_be_deleted_as_a_whole(org, conn, vendor):
    from django.db.models import RestrictedError

    from exports.models import ExportAttempt

    approve(org, expense("exp_1"))
    work()
    cancel(org)  # a reversal now points at the expense record
    work()
    with pytest.raises(RestrictedError):  # not the booked original alone while its reversal exists
        ExportRecord.objects.filter(kind="expense").delete()
    ExportRecord.objects.filter(connection=conn).delete()  # what a connection's cascade does
    assert not ExportRecord.objects.exists() and not ExportAttempt.objects.exists()


def test_a_receipt_still_downloading_is_fetched_before_the_push_and_goes_with_it(org, conn, vendor, settings,
                                                                                 tmp_path):
    """The intake queues the receipt download and the export side by side; whichever runs first,
    the entry goes out with the receipt (here the download task has not run at all)."""
    import hashlib

    import responses

    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                                                          "OPTIONS": {"location": str(tmp_path)}}}
    org.expensico_api_base_url, org.expensico_api_token = "https://api.expensico.com", "tok"
    org.save()
    pdf = b"%PDF-1.7 taxi receipt"
    url = "https://api.expensico.com/v1/receipts/rcp_r1/content"
    receipt = {"id": "rcp_r1", "filename": "taxi.pdf", "content_type": "application/pdf", "size": len(pdf),
               "sha256": hashlib.sha256(pdf).hexdigest(), "url": url}
    approve(org, expense("exp_r1", receipts=[receipt]))
    with responses.RequestsMock() as mock:
        mock.get(url, body=pdf)
        assert work() == {"exported": 1}
    (attachment,) = vendor.documents["EXPENSICO-exp_r1-v1"]["entry"].attachments
    assert attachment.filename == "taxi.pdf" and attachment.storage_path
    assert not ReviewItem.objects.exists(), "booked with its receipt: nothing for a person to look at"


@pytest.mark.parametrize("filename", ["../../etc/passwd.pdf", "..\\..\\boot.ini", "a/b/c.PDF", "rcpt\x01?*:<>|.pdf",
                                      "/abs/../../x", ".."])
def test_a_receipt_with_a_path_in_its_filename_is_stored_under_a_safe_name_and_exported(
        org, conn, vendor, settings, tmp_path, filename):
    """Storage refuses "../" names: the receipt never landed and its record could not be exported.
    It is now stored under a generated name inside the receipts folder; the sender's name is kept."""
    import hashlib

    import responses
    from django.core.files.storage import default_storage

    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                                                          "OPTIONS": {"location": str(tmp_path / "media")}}}
    org.expensico_api_base_url, org.expensico_api_token = "https://api.expensico.com", "tok"
    org.save()
    pdf = b"%PDF-1.7 receipt with an odd name"
    url = "https://api.expensico.com/v1/receipts/rcp_odd/content"
    receipt = {"id": "rcp_odd", "filename": filename, "content_type": "application/pdf", "size": len(pdf),
               "sha256": hashlib.sha256(pdf).hexdigest(), "url": url}
    approve(org, expense("exp_odd", receipts=[receipt]))
    with responses.RequestsMock() as mock:
        mock.get(url, body=pdf)
        assert work() == {"exported": 1}
    (attachment,) = vendor.documents["EXPENSICO-exp_odd-v1"]["entry"].attachments
    assert attachment.filename == filename
    path = attachment.storage_path
    assert path.startswith("receipts/") and ".." not in path and "\\" not in path
    assert default_storage.open(path).read() == pdf
    assert (tmp_path / "media" / path).resolve().is_relative_to(tmp_path / "media")
    assert not ReviewItem.objects.exists()


def test_a_refused_receipt_does_not_hold_the_booking_back(org, conn, vendor):
    """A receipt URL off the organisation's Expensico host is refused (never fetched) and says why
    on the receipt; the expense is still booked, without it."""
    from expensico_sync.source.models import Receipt

    org.expensico_api_base_url, org.expensico_api_token = "https://api.expensico.com", "tok"
    org.save()
    approve(org, expense("exp_off", receipts=[{"id": "rcp_off", "filename": "r.pdf", "content_type": "application/pdf",
                                               "size": 3, "sha256": "a" * 64,
                                               "url": "http://127.0.0.1:9/latest/meta-data/"}]))
    assert work() == {"exported": 1}
    (attachment,) = vendor.documents["EXPENSICO-exp_off-v1"]["entry"].attachments
    assert attachment.storage_path == ""
    refused = Receipt.objects.get(expensico_id="rcp_off")
    assert refused.fetch_error.startswith("refused:") and not refused.verified
