"""Workday read-back (Get_Journals) and closed ledger periods against the SOAP sandbox; every
request and answer is held to the v30 XSD by the workday_server fixture (issue 17)."""

import uuid
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
import requests

from connectors.base import connector_for
from connectors.errors import PeriodClosed
from connectors.workday.sandbox import testkit
from tests.connectors.readback import NOV, pusher, read, tampered_read

pytestmark = pytest.mark.django_db

push = pusher(testkit)


def test_read_back_by_range_gives_the_journal_as_workday_holds_it(workday_connection, workday_server):
    conn, server = workday_connection, workday_server
    wid = push(conn, server, "EXPENSICO-w1-v1")
    push(conn, server, "EXPENSICO-w2-v1", on=date(2026, 12, 1))
    pages, docs = read(conn, **NOV)
    [doc] = docs
    assert (doc.reference, doc.external_id, doc.date, doc.currency, doc.amount, doc.status) == (
        "EXPENSICO-w1-v1", wid, date(2026, 11, 1), "SAR", Decimal("115.00"), "posted")
    expense, paid = doc.lines
    assert (expense.account, expense.debit, expense.credit) == ("Standard/6100", Decimal("115.00"), Decimal("0"))
    assert ("worktag:Spend_Category_ID", "SC_Travel") in expense.dimensions
    assert (paid.account, paid.credit) == (conn.employee_claims_account, Decimal("115.00"))
    assert [p.requests for p in pages] == [1]
    assert server.checker.checked >= 1


def test_read_back_by_reference(workday_connection, workday_server):
    conn, server = workday_connection, workday_server
    push(conn, server, "EXPENSICO-w3-v1")
    wid = push(conn, server, "EXPENSICO-w4-v1")
    _, docs = read(conn, references=["EXPENSICO-w4-v1", "EXPENSICO-never-sent"])
    assert [(d.reference, d.external_id) for d in docs] == [("EXPENSICO-w4-v1", wid)]


def test_pages_at_999_journals(workday_connection, workday_server):
    conn, server = workday_connection, workday_server
    push(conn, server, "EXPENSICO-w5-v1")
    with server.app.lock:
        journal = next(iter(server.app.journals.values()))
        for n in range(1000):
            copy = {**journal, "wid": f"{n:032x}", "journal_id": f"EXPENSICO-bulk{n}-v1", "created": journal["created"]}
            server.app.journals[copy["wid"]] = copy
    conn.settings = {**conn.settings, "read_timeout": 120}     # 999 journals are a big envelope
    pages, docs = read(conn, **NOV)
    assert [(len(p.documents), p.requests) for p in pages] == [(999, 1), (2, 1)]
    assert len({d.external_id for d in docs}) == 1001


def test_drafts_and_canceled_journals_read_back_with_their_status(workday_connection, workday_server):
    conn, server = workday_connection, workday_server
    conn.settings = {**conn.settings, "submit": False}
    conn.save()
    draft = push(conn, server, "EXPENSICO-w6-v1")
    canceled = push(conn, server, "EXPENSICO-w7-v1")
    entry = testkit.sample_entry(server, conn, "EXPENSICO-w7-v1")
    connector_for(conn).reverse(canceled, testkit.reversal_entry(entry), str(uuid.uuid4()))
    _, docs = read(conn, **NOV)
    assert {d.external_id: d.status for d in docs} == {draft: "draft", canceled: "cancelled"}


def test_tamper_hooks_show_in_the_read_back(workday_connection, workday_server):
    conn, server = workday_connection, workday_server
    t = tampered_read(testkit, conn, server, push)
    assert t.deleted not in t.by_id
    assert [(line.account, line.debit, line.credit) for line in t.by_id[t.copy].lines] == [
        (line.account, line.debit, line.credit) for line in t.by_id[t.copied].lines]


def test_a_journal_into_a_closed_period_is_period_closed(workday_connection, workday_server):
    conn, server = workday_connection, workday_server
    testkit.lock_period(server, conn, date(2026, 11, 30))
    with pytest.raises(PeriodClosed) as exc:
        push(conn, server, "EXPENSICO-p1-v1", on=date(2026, 11, 14))
    assert (exc.value.code, exc.value.field, exc.value.period_end) == ("period_closed", "date", "2026-11-30")
    assert "ledger period" in exc.value.message
    assert testkit.held(server, "EXPENSICO-p1-v1") == []
    wid = push(conn, server, "EXPENSICO-p1-v1", on=date(2026, 12, 1))
    [journal] = testkit.held(server, "EXPENSICO-p1-v1")
    assert (journal["wid"], journal["accounting_date"], journal["status"]) == (wid, "2026-12-01", "Posted")


def test_lock_control_names_the_field_it_cannot_read(workday_server):
    answer = requests.post(f"{workday_server.base_url}/__sandbox__/settings", json={"closed_through": "soon"},
                           timeout=5)
    assert answer.status_code == 400 and "closed_through" in answer.json()["detail"]


def test_a_reversal_of_a_closed_month_posts_once_dated_in_the_open_period(workday_connection, workday_server):
    conn, server = workday_connection, workday_server
    wid = push(conn, server, "EXPENSICO-p2-v1", on=date(2026, 11, 14))
    testkit.lock_period(server, conn, date(2026, 11, 30))
    reversal = testkit.reversal_entry(replace(testkit.sample_entry(server, conn, "EXPENSICO-p2-v1"),
                                              date=date(2026, 11, 14)))
    key = str(uuid.uuid4())
    with pytest.raises(PeriodClosed) as exc:
        connector_for(conn).reverse(wid, reversal, key)
    assert exc.value.period_end == "2026-11-30"
    connector_for(conn).reverse(wid, replace(reversal, date=date(2026, 12, 1)), key)
    [journal] = testkit.held(server, "EXPENSICO-p2-v1-R")
    assert (journal["accounting_date"], journal["status"]) == ("2026-12-01", "Posted")
