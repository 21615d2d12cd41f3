"""Closed periods per vendor, through the engine, over real HTTP (issue 17, item 5 and its proof):
the vendor's sandbox locks November through its testkit's `lock_period` (BC's "Allow Posting
From", Xledger's closed period, Workday's closed accounting period, Wafeq's lock date, Moon's and
Apideck's documented refusals), and a posting into it follows the connection's policy: held for
review with the vendor's own words, or posted on the first day of the next open period with the
original date in the memo. A reversal of a document in the closed period posts in the open one.
Every outcome is read back from the vendor's copy.

Every vendor that reads back and ships `lock_period` joins; `tests/exports/test_closed_periods.py`
covers the same rules against the in-memory fake, and `tests/contract/test_read_back.py` each
connector's PeriodClosed on its own."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from bench.systems import SYSTEMS
from connectors.base import connector_for
from connectors.registry import vendor, vendors
from expensico_sync.core.models import Organization
from exports.models import ConnectionClosePolicy, ExportRecord, ReviewItem
from mappings.models import CategoryMapping
from tests.exports.conftest import approve, cancel, expense

from .conftest import drain

pytestmark = pytest.mark.django_db(transaction=True)

NOVEMBER_END = date(2026, 11, 30)
REFERENCE = "EXPENSICO-exp_1-v1"
# The vendor's own refusal, as each sandbox words it (its vendor-apis contract or documented choice).
REFUSAL = {
    "wafeq": "lock date",
    # Business Central publishes its lock date ("Allow Posting From"): pre-flight catches the
    # document before it is sent, in its own words.
    "business_central": "falls in Dynamics 365 Business Central's closed period",
    "xledger": "closed",
    "workday": "ledger period status",
    "apideck": "ledger period status",
    "moon_erp": "closed accounting period",
}
# Where the reversal is a document of the open period made for the closed one (Apideck: Workday
# voids only in the original's period; Moon: a cancellation once the expense's period is closed),
# its memo keeps the original's date.
MEMO_KEEPS_ORIGINAL_DATE = {"apideck", "moon_erp"}


def _joins(entry) -> bool:
    return entry.connector_class().reads_back and hasattr(entry.module("testkit"), "lock_period")


@pytest.fixture(params=[entry.key for entry in vendors() if _joins(entry)])
def system(request):
    return request.param


@pytest.fixture
def kit(system):
    return vendor(system).module("testkit")


@pytest.fixture
def sandbox(kit, system):
    server = kit.start_sandbox()
    SYSTEMS[system].prepare(server)
    yield server
    server.stop()


@pytest.fixture
def books(kit, sandbox, system):
    profile = SYSTEMS[system]
    org = Organization.objects.create(slug="closing", name="Closing Co", base_currency="SAR", mode="live")
    connection = kit.connect(sandbox, org)
    connection.settings = {**connection.settings, **profile.settings, **getattr(kit, "POSTING_SETTINGS", {})}
    connection.save(update_fields=["settings"])
    account = profile.travel_account(sandbox) or next(
        line.account for line in kit.sample_entry(sandbox, connection, "EXPENSICO-probe-v1").lines
        if line.role == "expense")
    CategoryMapping.objects.create(connection=connection, category_code="TRAVEL", account=account)
    return connection


def policy(connection, value: str) -> None:
    ConnectionClosePolicy.objects.update_or_create(connection=connection, defaults={"closed_period": value})


def statuses() -> dict[str, int]:
    """After the work due is done (the test settings run the worker inline on commit already)."""
    drain()
    out: dict[str, int] = {}
    for status in ExportRecord.objects.values_list("status", flat=True):
        out[status] = out.get(status, 0) + 1
    return out


def vendor_copies(connection, reference: str) -> list:
    """The vendor's live documents carrying `reference`, read back the production way."""
    docs = [doc for page in connector_for(connection).read_back(references=[reference]) for doc in page.documents]
    return [doc for doc in docs if doc.reference == reference and doc.status != "cancelled"]


def test_posting_into_the_vendors_closed_period_is_held_by_default(system, kit, sandbox, books):
    kit.lock_period(sandbox, books, NOVEMBER_END)
    approve(books.organization, expense("exp_1", receipts=[]))
    assert statuses() == {"needs_review": 1}
    item = ReviewItem.objects.get()
    assert item.reason == ReviewItem.Reason.PERIOD_CLOSED
    assert item.context["closed_by"] == "vendor" and item.context["date"] == "2026-11-02"
    assert REFUSAL[system].lower() in item.context["message"].lower(), item.context["message"]
    assert item.context["period_end"] in ("", "2026-11-30")
    assert vendor_copies(books, REFERENCE) == []


def test_posting_into_the_vendors_closed_period_lands_on_the_next_open_day(system, kit, sandbox, books):
    policy(books, "next_open")
    kit.lock_period(sandbox, books, NOVEMBER_END)
    approve(books.organization, expense("exp_1", receipts=[]))
    assert statuses() == {"exported": 1}
    record = ExportRecord.objects.get()
    assert list(record.export_attempts.order_by("number").values_list("outcome", flat=True)) == ["redated", "exported"]
    assert record.posting_date == date(2026, 12, 1)
    redated = record.export_attempts.get(outcome="redated")
    why = " ".join([redated.error_message, *redated.notes])  # the vendor's refusal, or pre-flight's catch
    assert REFUSAL[system].lower() in why.lower(), why
    [copy] = vendor_copies(books, REFERENCE)
    assert copy.external_id == record.external_id
    assert copy.date == date(2026, 12, 1)
    assert copy.amount == Decimal("115.00")
    memos = " ".join([copy.memo] + [line.description for line in copy.lines])
    assert "original date 2026-11-02" in memos, (copy.memo, [line.description for line in copy.lines])
    assert not ReviewItem.objects.exists()


def net(doc) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for line in doc.lines:
        out[line.account] = out.get(line.account, Decimal(0)) + line.debit - line.credit
    return {account: amount for account, amount in out.items() if amount}


def read(connection, first: date, last: date) -> list:
    return [doc for page in connector_for(connection).read_back(date_from=first, date_to=last)
            for doc in page.documents if doc.status != "cancelled"]


def test_a_reversal_of_a_document_in_the_closed_period_posts_in_the_open_period(system, kit, sandbox, books):
    org = books.organization
    approve(org, expense("exp_1", receipts=[]))
    assert statuses() == {"exported": 1}
    [original] = vendor_copies(books, REFERENCE)
    kit.lock_period(sandbox, books, NOVEMBER_END)      # the vendor closes November after we booked
    cancel(org, "exp_1")
    drain()
    reversal = ExportRecord.objects.get(kind="reversal")
    assert reversal.status == "exported", list(ReviewItem.objects.values_list("detail", flat=True))
    today = timezone.localdate()
    assert today > NOVEMBER_END
    # The vendor's books: November as it was closed, the reversal in the open period.
    assert [doc.external_id for doc in read(books, date(2026, 11, 1), NOVEMBER_END)] == [original.external_id]
    [undo] = read(books, NOVEMBER_END + timedelta(days=1), today)
    assert undo.date == today and undo.amount == original.amount
    assert net(undo) == {account: -amount for account, amount in net(original).items()}
    if system in MEMO_KEEPS_ORIGINAL_DATE:
        assert "original date 2026-11-02" in undo.memo, undo.memo
    assert not ReviewItem.objects.exists()
