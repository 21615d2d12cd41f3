"""Workday via Apideck: read-back through the journal-entry list (cursor paging, 200 a page) and
Workday's closed-period fault passed through in Apideck's error shape (issue 17). Every request
and answer is held to the shipped OpenAPI spec by the sandbox itself (a violation is a 500, which
the apideck_server fixture refuses)."""

import uuid
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
import requests

from connectors.apideck.client import ApideckClient
from connectors.apideck.sandbox import testkit
from connectors.base import connector_for
from connectors.errors import PeriodClosed
from tests.connectors.readback import NOV, pusher, read, tampered_read

pytestmark = pytest.mark.django_db

push = pusher(testkit)


def test_read_back_by_range_gives_the_entry_as_workday_holds_it(apideck_connection, apideck_server):
    conn, server = apideck_connection, apideck_server
    entry_id = push(conn, server, "EXPENSICO-a1-v1")
    push(conn, server, "EXPENSICO-a2-v1", on=date(2026, 12, 1))
    pages, docs = read(conn, **NOV)
    [doc] = docs
    assert (doc.reference, doc.external_id, doc.date, doc.currency, doc.amount, doc.status) == (
        "EXPENSICO-a1-v1", entry_id, date(2026, 11, 1), "SAR", Decimal("115.00"), "posted")
    expense, paid = doc.lines
    assert (expense.account, expense.debit) == (testkit.encode_account_id("6100", "Standard"), Decimal("115.00"))
    assert ("worktag:Spend_Category_ID", "SC_Travel") in expense.dimensions
    assert (paid.account, paid.credit, paid.debit) == (conn.employee_claims_account, Decimal("115.00"), Decimal(0))
    assert [p.requests for p in pages] == [1]


def test_read_back_by_reference(apideck_connection, apideck_server):
    conn, server = apideck_connection, apideck_server
    push(conn, server, "EXPENSICO-a3-v1")
    entry_id = push(conn, server, "EXPENSICO-a4-v1", on=date(2026, 12, 1))
    _, docs = read(conn, references=["EXPENSICO-a4-v1", "EXPENSICO-never-sent"])
    assert [(d.reference, d.external_id) for d in docs] == [("EXPENSICO-a4-v1", entry_id)]


def test_the_list_is_paged_by_cursor_at_200(apideck_connection, apideck_server):
    conn, server = apideck_connection, apideck_server
    push(conn, server, "EXPENSICO-a5-v1")
    with server.app.lock:
        row = next(iter(server.app.journal_entries.values()))
        for n in range(200):
            server.app.journal_entries[f"bulk{n:04d}"] = {**row, "id": f"bulk{n:04d}", "number": f"EXPENSICO-b{n}-v1"}
    pages, docs = read(conn, **NOV)
    assert [(len(p.documents), p.requests) for p in pages] == [(200, 1), (1, 1)]
    assert len({d.external_id for d in docs}) == 201


def test_drafts_and_voided_entries_read_back_with_their_status(apideck_connection, apideck_server):
    conn, server = apideck_connection, apideck_server
    voided = push(conn, server, "EXPENSICO-a6-v1")
    entry = testkit.sample_entry(server, conn, "EXPENSICO-a6-v1")
    connector_for(conn).reverse(voided, testkit.reversal_entry(entry), str(uuid.uuid4()))
    conn.settings = {**conn.settings, "status": "draft"}
    conn.save()
    draft = push(conn, server, "EXPENSICO-a7-v1")
    _, docs = read(conn, **NOV)
    assert {d.external_id: d.status for d in docs} == {voided: "cancelled", draft: "draft"}


def test_tamper_hooks_show_in_the_read_back(apideck_connection, apideck_server):
    conn, server = apideck_connection, apideck_server
    t = tampered_read(testkit, conn, server, push)
    assert t.by_id[t.deleted].status == "cancelled"
    assert t.by_id[t.copy].lines == t.by_id[t.copied].lines


def test_a_draft_amount_is_edited_through_apideck(apideck_connection, apideck_server):
    conn, server = apideck_connection, apideck_server
    conn.settings = {**conn.settings, "status": "draft"}
    conn.save()
    draft = push(conn, server, "EXPENSICO-t4-v1")
    testkit.tamper_edit_amount(server, conn, draft, Decimal("90.00"))
    assert ("PATCH /accounting/journal-entries/" + draft, 200) in server.answers
    _, docs = read(conn, references=["EXPENSICO-t4-v1"])
    assert [d.amount for d in docs] == [Decimal("90.00")]


def test_an_entry_into_a_closed_period_is_period_closed(apideck_connection, apideck_server):
    conn, server = apideck_connection, apideck_server
    testkit.lock_period(server, conn, date(2026, 11, 30))
    with pytest.raises(PeriodClosed) as exc:
        push(conn, server, "EXPENSICO-p1-v1", on=date(2026, 11, 14))
    assert (exc.value.code, exc.value.field, exc.value.period_end, exc.value.status) == (
        "period_closed", "date", "2026-11-30", 400)
    assert "ledger period" in exc.value.message
    assert testkit.held(server, "EXPENSICO-p1-v1") == []
    entry_id = push(conn, server, "EXPENSICO-p1-v1", on=date(2026, 12, 1))
    [row] = testkit.held(server, "EXPENSICO-p1-v1")
    assert (row["id"], row["posted_at"][:10], row["status"]) == (entry_id, "2026-12-01", "posted")


def test_the_closed_period_answer_is_apideck_s_downstream_error(apideck_connection, apideck_server):
    conn, server = apideck_connection, apideck_server
    testkit.lock_period(server, conn, date(2026, 11, 30))
    answer = requests.post(f"{server.base_url}/accounting/journal-entries", headers=ApideckClient(conn).auth_headers(),
                           json={"number": "X", "posted_at": "2026-11-02T00:00:00.000Z", "line_items": [
                               {"type": "debit", "total_amount": 1, "ledger_account": {"id": conn.employees_balance_account}},
                               {"type": "credit", "total_amount": 1, "ledger_account": {"id": testkit.CASH}}]},
                           timeout=5)
    body = answer.json()
    assert (answer.status_code, body["type_name"]) == (400, "ConnectorExecutionError")
    assert body["downstream_errors"][0]["detail"] == "posted_at"


def test_a_posted_entry_of_a_closed_period_is_reversed_by_an_entry_in_the_open_period(apideck_connection,
                                                                                      apideck_server):
    # Workday voids a posted journal only in its own period: the sandbox refuses the DELETE with the
    # closed-period fault, and the connector posts the reversal as a journal entry dated in the open one.
    conn, server = apideck_connection, apideck_server
    original = push(conn, server, "EXPENSICO-p2-v1", on=date(2026, 11, 2))
    testkit.lock_period(server, conn, date(2026, 11, 30))
    answer = requests.delete(f"{server.base_url}/accounting/journal-entries/{original}",
                             headers=ApideckClient(conn).auth_headers(), timeout=5)
    assert (answer.status_code, answer.json()["downstream_errors"][0]["detail"]) == (400, "posted_at")
    entry = testkit.sample_entry(server, conn, "EXPENSICO-p2-v1")
    reversal = replace(testkit.reversal_entry(entry), date=date(2026, 12, 3))
    result = connector_for(conn).reverse(original, reversal, str(uuid.uuid4()))
    assert result.external_id != original
    _, november = read(conn, **NOV)
    assert [(d.external_id, d.status) for d in november] == [(original, "posted")]
    _, december = read(conn, date_from=date(2026, 12, 1), date_to=date(2026, 12, 31))
    [undo] = december
    assert (undo.external_id, undo.reference, undo.date, undo.amount) == (
        result.external_id, reversal.reference, date(2026, 12, 3), november[0].amount)
    assert "original date 2026-11-02" in undo.memo


def test_lock_control_names_the_field_it_cannot_read(apideck_server):
    answer = requests.post(f"{apideck_server.base_url}/__sandbox__/settings", json={"closed_through": "2026-13-01"},
                           timeout=5)
    assert answer.status_code == 400 and "closed_through" in answer.json()["detail"]


def test_an_entry_made_without_posted_at_reads_back_on_the_day_it_was_created(apideck_connection, apideck_server):
    conn, server = apideck_connection, apideck_server
    tags = [{"id": "Cost_Center_Reference_ID", "value": "CC100"}]
    made = ApideckClient(conn).call("POST", "/accounting/journal-entries", json_body={"status": "posted", "line_items": [
        {"type": "debit", "total_amount": Decimal("5.00"), "ledger_account": {"id": conn.employees_balance_account},
         "worktags": tags},
        {"type": "credit", "total_amount": Decimal("5.00"), "ledger_account": {"id": testkit.CASH},
         "worktags": tags}]}).body["data"]["id"]
    today = date.fromisoformat(server.app.journal_entries[made]["created_at"][:10])
    _, docs = read(conn, date_from=today, date_to=today)
    assert [(d.external_id, d.date, d.reference) for d in docs] == [(made, today, "")]
