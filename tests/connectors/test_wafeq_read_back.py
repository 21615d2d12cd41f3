"""Wafeq read-back beyond the single expense: a multi-category expense comes back as the manual
journal it was booked as, a card top-up as a ledger transaction on the funding bank; a document
in the locked period is reversed by a journal in the open one."""

import dataclasses
import uuid
from datetime import date
from decimal import Decimal

import pytest

from connectors.base import connector_for
from connectors.entry import AccountingEntry, EntryKind, EntryLine, LineRole
from connectors.errors import PeriodClosed
from connectors.wafeq.sandbox import testkit

pytestmark = pytest.mark.django_db


@pytest.fixture
def server():
    server = testkit.start_sandbox()
    yield server
    server.stop()


@pytest.fixture
def connection(server, org):
    return testkit.connect(server, org)


def test_journals_and_bank_transactions_come_back(server, connection):
    expense = [a["id"] for a in server.app.store["accounts"].values() if a["classification"] == "EXPENSE"]
    split = AccountingEntry(
        kind=EntryKind.EXPENSE, reference="EXPENSICO-s1-v1", date=date(2026, 11, 4), currency="SAR",
        description="Two categories", lines=(
            EntryLine(role=LineRole.EXPENSE, account=expense[0], debit=Decimal("60.00")),
            EntryLine(role=LineRole.EXPENSE, account=expense[1], debit=Decimal("40.00")),
            EntryLine(role=LineRole.PAID_THROUGH, account=connection.employee_claims_account, credit=Decimal("100.00"))))
    top_up = AccountingEntry(
        kind=EntryKind.LEDGER_BANK_TRANSACTION, reference="EXPENSICO-t1-v1", date=date(2026, 11, 5), currency="SAR",
        description="Card top-up", bank_account=connection.funding_bank_account, lines=(
            EntryLine(role=LineRole.COUNTERPART, account=connection.employees_balance_account, debit=Decimal("500.00")),
            EntryLine(role=LineRole.BANK, account=connection.funding_bank_account, credit=Decimal("500.00"))))
    connector = connector_for(connection)
    ids = {e.reference: connector.push(e, str(uuid.uuid4())).external_id for e in (split, top_up)}
    docs = {d.reference: d for p in connector.read_back(date_from=date(2026, 11, 1), date_to=date(2026, 11, 30))
            for d in p.documents}
    assert ids["EXPENSICO-s1-v1"].startswith("mj_") and docs["EXPENSICO-s1-v1"].external_id == ids["EXPENSICO-s1-v1"]
    assert {(ln.account, ln.debit, ln.credit) for ln in docs["EXPENSICO-s1-v1"].lines} == {
        (ln.account, ln.debit, ln.credit) for ln in split.lines}
    bank = docs["EXPENSICO-t1-v1"]
    assert (bank.external_id, bank.amount, bank.currency) == (ids["EXPENSICO-t1-v1"], Decimal("500.00"), "SAR")
    assert {(ln.account, ln.debit, ln.credit) for ln in bank.lines} == {
        (ln.account, ln.debit, ln.credit) for ln in top_up.lines}


def test_a_document_in_the_locked_period_is_reversed_by_a_journal_in_the_open_one(server, connection):
    connector = connector_for(connection)
    original = testkit.sample_entry(server, connection, "EXPENSICO-lr1-v1")      # dated 2026-11-01
    pushed = connector.push(original, str(uuid.uuid4()))
    testkit.lock_period(server, connection, date(2026, 11, 30))
    reversal = testkit.reversal_entry(original)
    with pytest.raises(PeriodClosed):    # dated in the locked period too: the engine must move it
        connector.reverse(pushed.external_id, reversal, str(uuid.uuid4()))
    moved = dataclasses.replace(reversal, date=date(2026, 12, 1))
    key = str(uuid.uuid4())
    result = connector.reverse(pushed.external_id, moved, key)
    assert "locked period" in result.notes[0]
    connector.reverse(pushed.external_id, moved, key)      # again: still one reversing journal
    docs = [d for p in connector.read_back(date_from=date(2026, 11, 1), date_to=date(2026, 12, 31))
            for d in p.documents]
    assert [d.reference for d in docs].count("EXPENSICO-lr1-v1-R") == 1
    net = {}
    for line in (ln for d in docs for ln in d.lines):
        net[line.account] = net.get(line.account, Decimal(0)) + line.debit - line.credit
    assert not any(net.values()), "the original and its reversing journal cancel out"
