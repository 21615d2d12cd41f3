"""Moon ERP read-back and closed periods against the sandbox over real HTTP (issue 17)."""

import uuid
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
import requests

from connectors.base import connector_for
from connectors.errors import PeriodClosed, Transient
from connectors.models import CallLog
from connectors.moon_erp.client import MoonClient
from connectors.moon_erp.sandbox import testkit
from tests.connectors.readback import NOV, read, tampered_read

pytestmark = pytest.mark.django_db

@pytest.fixture
def server():
    srv = testkit.start_sandbox()
    yield srv
    srv.stop()


@pytest.fixture
def conn(server, org):
    return testkit.connect(server, org)


def push(conn, server, reference, amount=Decimal("115.00"), on=date(2026, 11, 1)):
    entry = testkit.sample_entry(server, conn, reference, amount=amount, on=on)
    return connector_for(conn).push(entry, str(uuid.uuid4())).external_id


def test_read_back_by_range_gives_moon_copy_with_lines_and_reference(conn, server):
    first = push(conn, server, "EXPENSICO-r1-v1")
    push(conn, server, "EXPENSICO-r2-v1", on=date(2026, 12, 2))
    pages, docs = read(conn, **NOV)
    [doc] = docs
    assert (doc.reference, doc.external_id, doc.date, doc.currency) == ("EXPENSICO-r1-v1", first, date(2026, 11, 1), "SAR")
    assert (doc.amount, doc.status) == (Decimal("115.000"), "posted")
    expense, paying = doc.lines
    assert (expense.account, expense.debit, expense.tax_amount, expense.tax_rate) == (
        "category:3", Decimal("115.000"), Decimal("15.000"), "1")
    assert (paying.account, paying.credit) == (conn.employee_claims_account, Decimal("115.000"))
    # The expense list, the reversing entries dated from the range's start (cancellations that moved
    # to another period), then the journals posted by hand.
    assert sum(p.requests for p in pages) == 3


def test_read_back_by_reference_lists_only_the_days_it_was_sent_on(conn, server):
    push(conn, server, "EXPENSICO-r3-v1")
    push(conn, server, "EXPENSICO-r4-v1", on=date(2026, 11, 5))
    listed = CallLog.objects.filter(connection=conn, method="GET", path__startswith="/api/accounting/expenses?")
    before = set(listed.values_list("pk", flat=True))
    _, docs = read(conn, references=["EXPENSICO-r4-v1"])
    assert [d.reference for d in docs] == ["EXPENSICO-r4-v1"]
    # One listing of the one day the call log says it was sent on; no journals (they carry no reference).
    assert [c.path for c in listed.exclude(pk__in=before)] == [
        "/api/accounting/expenses?date_from=2026-11-05&date_to=2026-11-05"]


def test_pages_of_25_each_cost_one_request(conn, server):
    user = server.app.store.user_for_token(testkit.FULL_TOKEN)
    with server.app.lock:
        for n in range(30):
            row = server.app.store.expense_create(user, {
                "date": "2026-11-03", "expense_category_id": 3, "description": f"Typed {n}", "amount": "10.000",
                "payment_method": "cash", "paying_account_id": 1})
            server.app.store.expense_approve(user, row)
    pages, docs = read(conn, **NOV)
    # Two expense pages at Moon's 25, one of reversing entries, one of journals posted by hand (none).
    assert [(len(p.documents), p.requests) for p in pages] == [(25, 1), (5, 1), (0, 1), (0, 1)]
    assert len({d.external_id for d in docs}) == 30 and all(d.reference == "" for d in docs)


def test_drafts_and_cancelled_expenses_read_back_with_their_status(conn, server):
    cancelled = push(conn, server, "EXPENSICO-r5-v1")
    entry = testkit.sample_entry(server, conn, "EXPENSICO-r5-v1")
    connector_for(conn).reverse(cancelled, testkit.reversal_entry(entry), str(uuid.uuid4()))
    draft = MoonClient(conn).post("/api/accounting/expenses", {
        "date": "2026-11-09", "expense_category_id": 3, "description": "Left as a draft", "amount": "20.000",
        "payment_method": "cash", "paying_account_id": 1}).body["data"]["id"]
    _, docs = read(conn, **NOV)
    status = {d.external_id: d.status for d in docs}
    assert status == {cancelled: "cancelled", str(draft): "draft"}


def test_tamper_hooks_show_in_the_read_back(conn, server):
    t = tampered_read(testkit, conn, server, push)   # Moon keeps three decimals: 140.000 == 140.00
    assert t.by_id[t.deleted].status == "cancelled"
    assert t.by_id[t.copy].lines == t.by_id[t.copied].lines
    # The edited journal in Moon stays balanced, and the ledger sees the by-hand debit.
    assert server.app.store.balances(1)["1101001"] == Decimal("-50.000")


def test_an_expense_typed_in_moon_reads_back_without_a_reference(conn, server):
    made = testkit.tamper_manual_post(server, conn, "category:3", Decimal("12.50"), date(2026, 11, 4), "SAR")
    _, docs = read(conn, **NOV)
    [doc] = docs
    assert (doc.external_id, doc.reference, doc.status, doc.amount) == (made, "", "posted", Decimal("12.500"))


def test_a_push_into_a_locked_period_is_period_closed_and_leaves_nothing(conn, server):
    testkit.lock_period(server, conn, date(2026, 11, 30))
    with pytest.raises(PeriodClosed) as exc:
        push(conn, server, "EXPENSICO-p1-v1")
    assert (exc.value.code, exc.value.field, exc.value.period_end) == ("period_closed", "date", "2026-11-30")
    assert testkit.held(server, "EXPENSICO-p1-v1") == []
    # The engine's "next open period" answer: the same reference, dated after the lock, books.
    entry = replace(testkit.sample_entry(server, conn, "EXPENSICO-p1-v1"), date=date(2026, 12, 1))
    connector_for(conn).push(entry, str(uuid.uuid4()))
    [row] = testkit.held(server, "EXPENSICO-p1-v1")
    assert (row["status"], row["date"]) == ("approved", "2026-12-01")


def test_a_period_locked_between_draft_and_approval_discards_the_draft(conn, server):
    server.app.inject("server_error", count=5, method="POST", path="/approve")
    entry = testkit.sample_entry(server, conn, "EXPENSICO-p2-v1")
    k = str(uuid.uuid4())
    with pytest.raises(Transient):
        connector_for(conn).push(entry, k)
    server.app.clear_faults()
    [draft] = testkit.held(server, "EXPENSICO-p2-v1")
    testkit.lock_period(server, conn, date(2026, 11, 30))
    with pytest.raises(PeriodClosed):
        connector_for(conn).push(entry, k)
    assert testkit.held(server, "EXPENSICO-p2-v1") == []
    assert server.app.store.tables["expenses"][draft["id"]]["deleted_at"]


def test_lock_control_names_the_field_it_cannot_read(server):
    answer = requests.post(f"{server.base_url}/__sandbox__/settings", json={"closed_through": "November"}, timeout=5)
    assert answer.status_code == 400 and "closed_through" in answer.json()["detail"]


def test_cancelling_an_expense_of_a_locked_period_reverses_it_in_the_open_period(conn, server):
    # Once the expense's month is closed, Moon posts the mirror entry on the day of the cancellation
    # (sandbox store, documented choice): November keeps the expense, the open period the reversal.
    external_id = push(conn, server, "EXPENSICO-p3-v1")
    testkit.lock_period(server, conn, date(2026, 11, 30))
    entry = testkit.sample_entry(server, conn, "EXPENSICO-p3-v1")
    connector_for(conn).reverse(external_id, testkit.reversal_entry(entry), str(uuid.uuid4()))
    assert server.app.store.tables["expenses"][int(external_id)]["status"] == "cancelled"
    _, november = read(conn, **NOV)
    assert [(d.external_id, d.status) for d in november] == [(external_id, "posted")]
    today = date.today()
    _, after = read(conn, date_from=date(2026, 12, 1), date_to=today)
    [undo] = after
    assert (undo.reference, undo.date, undo.status, undo.amount) == ("EXPENSICO-p3-v1-R", today, "posted",
                                                                     november[0].amount)
    assert [(line.account, line.debit, line.credit) for line in undo.lines] == [
        (line.account, line.credit, line.debit) for line in november[0].lines]
    assert "original date 2026-11-01" in undo.memo


def test_cancelling_on_a_closed_day_is_period_closed(conn, server):
    external_id = push(conn, server, "EXPENSICO-p4-v1")
    testkit.lock_period(server, conn, date.today())
    entry = testkit.sample_entry(server, conn, "EXPENSICO-p4-v1")
    with pytest.raises(PeriodClosed):
        connector_for(conn).reverse(external_id, testkit.reversal_entry(entry), str(uuid.uuid4()))
    [row] = testkit.held(server, "EXPENSICO-p4-v1")
    assert row["status"] == "approved"
