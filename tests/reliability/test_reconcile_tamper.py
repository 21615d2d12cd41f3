"""Per vendor, over real HTTP: export a month, change the vendor's ledger behind our back through
the sandbox's own API (delete one document, edit one amount, duplicate one, post one line to a
control account by hand) → the reconciliation shows exactly those four differences, verification
opens vendor_mismatch items for our three documents, and nothing else differs (issue 17's proof).

Every vendor that declares `reads_back` and ships the tamper hooks in its testkit joins."""

from datetime import date
from decimal import Decimal

import pytest

from bench.systems import SYSTEMS
from connectors.registry import vendor, vendors
from expensico_sync.core.models import Organization
from exports.models import ExportRecord, ReviewItem
from exports.reconcile.run import reconciliation_create, reconciliation_execute
from exports.reconcile.verify import connection_verify
from mappings.models import CategoryMapping
from tests.exports.reconcile.month import claims_and_card_month

pytestmark = pytest.mark.django_db(transaction=True)
HOOKS = ("tamper_delete", "tamper_edit_amount", "tamper_duplicate", "tamper_manual_post")


def _joins(entry) -> bool:
    kit = entry.module("testkit")
    return entry.connector_class().reads_back and all(hasattr(kit, hook) for hook in HOOKS)


@pytest.fixture(params=[entry.key for entry in vendors() if _joins(entry)])
def kit(request):
    return vendor(request.param).module("testkit")


@pytest.fixture
def profile(kit):
    return SYSTEMS[kit.__name__.split(".")[1]]   # books in SAR, a default cost centre … (bench/systems.py)


@pytest.fixture
def sandbox(kit, profile):
    server = kit.start_sandbox()
    profile.prepare(server)
    yield server
    server.stop()


@pytest.fixture
def books(kit, sandbox, profile):
    org = Organization.objects.create(slug="tamper", name="Tamper Co", base_currency="SAR", mode="live")
    connection = kit.connect(sandbox, org)
    if profile.settings:
        connection.settings = {**connection.settings, **profile.settings}
        connection.save(update_fields=["settings"])
    account = profile.travel_account(sandbox) or next(
        line.account for line in kit.sample_entry(sandbox, connection, "EXPENSICO-probe-v1").lines
        if line.role == "expense")
    for code in ("TRAVEL", "MEALS"):
        CategoryMapping.objects.create(connection=connection, category_code=code, account=account)
    return connection


def reconcile(connection):
    run = reconciliation_create(connection=connection, period=date(2026, 11, 1), confirm_cost=True)
    reconciliation_execute(reconciliation_id=run.pk)   # a no-op when the on-commit task already ran it
    run.refresh_from_db()
    assert run.status == "finished", run.error
    return run


def test_four_changes_behind_our_back_are_exactly_the_four_differences(kit, sandbox, books, settings):
    settings.EXPORTS_VERIFY_BILLED_WAIT_HOURS = 0   # a vendor that bills requests verifies now, not in a day
    org = books.organization
    claims_and_card_month(org)
    records = {r.source_id: r for r in ExportRecord.objects.filter(connection=books)}
    assert {r.status for r in records.values()} == {"exported"}, [(r.reference, r.last_error) for r in records.values()]
    clean = reconcile(books)
    assert list(clean.differences.values_list("kind", "reference")) == []
    assert all(row.difference == 0 for row in clean.rows.all()), [(r.account, r.difference) for r in clean.rows.all()]

    deleted, edited, copied = records["exp_1"], records["exp_2"], records["exp_3"]
    kit.tamper_delete(sandbox, books, deleted.external_id)
    kit.tamper_edit_amount(sandbox, books, edited.external_id, Decimal("45.00"))
    copy = kit.tamper_duplicate(sandbox, books, copied.external_id)
    manual = kit.tamper_manual_post(sandbox, books, books.employees_balance_account, Decimal("25.00"),
                                    date(2026, 11, 9), "SAR")
    run = reconcile(books)
    assert {(d.kind, d.reference or "", d.external_id) for d in run.differences.all()} == {
        ("missing_in_vendor", deleted.reference, deleted.external_id),
        ("amount_differs", edited.reference, edited.external_id),
        ("extra_in_vendor", copied.reference, copy),
        ("extra_in_vendor", "", manual)}
    rows = {row.account_kind: row.difference for row in run.rows.all() if row.account_kind != "expense"}
    # exp_1 (claim, 115) gone and exp_2 (claim, 40 → 45): Claims −(−115) − 5; exp_3 (card, 60.50) twice; +25 by hand.
    assert rows == {"employee_claims": Decimal("110.00"), "employees_balance": Decimal("-35.50"),
                    "funding_bank": Decimal("0")}

    ReviewItem.objects.filter(reason="vendor_mismatch").delete()
    ExportRecord.objects.filter(connection=books).update(verified_at=None, vendor_hash="")
    books.refresh_from_db()
    assert (books.status, books.breaker_open) == ("connected", False), books.last_check_detail
    counts = connection_verify(connection=books)
    # A vendor deletes, or keeps the document as cancelled: either way it is gone from the ledger.
    gone = counts.get("deleted", 0) + counts.get("cancelled", 0)
    assert (gone, counts.get("changed"), counts.get("duplicated"), counts.get("verified")) == (1, 1, 1, None), counts
    assert set(ReviewItem.objects.filter(reason="vendor_mismatch").values_list("record_id", flat=True)) == {
        deleted.pk, edited.pk, copied.pk}
