"""Read-back and closed periods, one suite for every connector that declares `reads_back`, each
against its own sandbox over real HTTP (issue 17, items 1 and 5).

A vendor joins by setting `reads_back` and shipping, in its testkit, the hooks `tamper_delete`,
`tamper_edit_amount`, `tamper_duplicate`, `tamper_manual_post` and `lock_period`; optionally
`set_page_size(server, n)` (lowers the sandbox's largest page so paging shows), `card_entry`
(when a card spend is not the sample entry paid through the Employees Balance),
`READ_BACK_STATUS` (what a pushed document reads as: "posted" unless the connection leaves
drafts), `POSTING_SETTINGS` (connection settings under which a push reaches the ledger, where
closed periods are enforced) and `PERIOD_END_REPORTED = True` (the vendor names the end of the
locked period in its refusal).
"""

import dataclasses
import uuid
from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest

from connectors.base import connector_for
from connectors.entry import LineRole
from connectors.errors import PeriodClosed
from connectors.registry import vendors

pytestmark = pytest.mark.django_db

NOVEMBER = (date(2026, 11, 1), date(2026, 11, 30))


def _reads_back(entry) -> bool:
    return entry.connector_class().reads_back


@pytest.fixture(params=[entry.key for entry in vendors() if _reads_back(entry)])
def system(request):
    return request.param


def key() -> str:
    return str(uuid.uuid4())


def dated(entry, on: date):
    return dataclasses.replace(entry, date=on)


def card_entry(kit, sandbox, connection, reference: str):
    if hasattr(kit, "card_entry"):
        return kit.card_entry(sandbox, connection, reference)
    entry = kit.sample_entry(sandbox, connection, reference)
    lines = tuple(dataclasses.replace(line, account=connection.employees_balance_account)
                  if line.role is LineRole.PAID_THROUGH else line for line in entry.lines)
    return dataclasses.replace(entry, lines=lines)


def read(connection, sandbox, **kw):
    """Every document read back, the pages, and a check that the pages' request counts are what
    the sandbox received."""
    before = sandbox.app.requests_seen
    pages = list(connector_for(connection).read_back(**kw))
    assert sum(p.requests for p in pages) == sandbox.app.requests_seen - before, "requests counted per page"
    return [doc for page in pages for doc in page.documents], pages


def by_reference(docs) -> dict[str, list]:
    out = defaultdict(list)
    for doc in docs:
        out[doc.reference].append(doc)
    return out


def net_per_account(lines) -> dict[str, Decimal]:
    out = defaultdict(Decimal)
    for line in lines:
        out[line.account] += line.debit - line.credit
    return {k: v for k, v in out.items() if v}


def assert_same(doc, entry, external_id: str, status: str):
    assert doc.external_id == external_id
    assert (doc.reference, doc.date, doc.currency, doc.amount) == (entry.reference, entry.date, entry.currency,
                                                                   entry.gross)
    assert doc.status == status
    assert net_per_account(doc.lines) == net_per_account(entry.lines)
    assert sum(line.tax_amount for line in doc.lines) == sum(line.tax_amount for line in entry.lines)
    taxed = {line.account: line.tax_rate for line in entry.lines if line.tax_rate}
    assert {line.account: line.tax_rate for line in doc.lines if line.tax_rate} == taxed
    assert all(isinstance(v, Decimal) for line in doc.lines for v in (line.debit, line.credit, line.tax_amount))


def gone(docs, reference: str) -> bool:
    return all(doc.status == "cancelled" for doc in by_reference(docs).get(reference, []))


def status(kit) -> str:
    return getattr(kit, "READ_BACK_STATUS", "posted")


def test_pushed_documents_come_back_by_date_range_and_by_reference(connection, kit, sandbox):
    connector = connector_for(connection)
    claim = dated(kit.sample_entry(sandbox, connection, "EXPENSICO-rb1-v1"), date(2026, 11, 3))
    card = dated(card_entry(kit, sandbox, connection, "EXPENSICO-rb2-v1"), date(2026, 11, 5))
    undone = dated(kit.sample_entry(sandbox, connection, "EXPENSICO-rb3-v1"), date(2026, 11, 7))
    december = dated(kit.sample_entry(sandbox, connection, "EXPENSICO-rb4-v1"), date(2026, 12, 2))
    ids = {e.reference: connector.push(e, key()).external_id for e in (claim, card, undone, december)}
    connector.reverse(ids[undone.reference], kit.reversal_entry(undone), key())

    docs, _ = read(connection, sandbox, date_from=NOVEMBER[0], date_to=NOVEMBER[1])
    found = by_reference(docs)
    for entry in (claim, card):
        assert len(found[entry.reference]) == 1
        assert_same(found[entry.reference][0], entry, ids[entry.reference], status(kit))
    assert "EXPENSICO-rb4-v1" not in found, "outside the range"
    # The reversal shows the vendor's way (the original gone or cancelled, or a reversing
    # document): either way the month's live documents add up to the claim and the card spend.
    live = [line for doc in docs if doc.status != "cancelled" for line in doc.lines]
    assert net_per_account(live) == net_per_account(claim.lines + card.lines)

    docs, _ = read(connection, sandbox, references=[claim.reference, december.reference, "EXPENSICO-none-v1"])
    found = by_reference(docs)
    assert set(found) == {claim.reference, december.reference}
    assert_same(found[december.reference][0], december, ids[december.reference], status(kit))


def test_paging(connection, kit, sandbox):
    if not hasattr(kit, "set_page_size"):
        pytest.skip(f"{connection.system}'s sandbox has no page size to lower")
    connector = connector_for(connection)
    refs = [f"EXPENSICO-pg{i}-v1" for i in range(5)]
    for ref in refs:
        connector.push(dated(kit.sample_entry(sandbox, connection, ref), date(2026, 11, 10)), key())
    kit.set_page_size(sandbox, 2)
    docs, pages = read(connection, sandbox, date_from=date(2026, 11, 10), date_to=date(2026, 11, 10))
    assert sorted(d.reference for d in docs) == refs
    assert sum(p.requests for p in pages) >= 3, "five documents at two a page"


def test_tampering_shows_on_read_back(connection, kit, sandbox):
    connector = connector_for(connection)
    entries = [dated(kit.sample_entry(sandbox, connection, f"EXPENSICO-tm{i}-v1"), date(2026, 11, 12 + i))
               for i in range(4)]
    ids = [connector.push(e, key()).external_id for e in entries]
    deleted, edited, duplicated, untouched = entries
    kit.tamper_delete(sandbox, connection, ids[0])
    kit.tamper_edit_amount(sandbox, connection, ids[1], Decimal("99.00"))
    copy_id = kit.tamper_duplicate(sandbox, connection, ids[2])
    manual_id = kit.tamper_manual_post(sandbox, connection, connection.employees_balance_account, Decimal("42.00"),
                                       date(2026, 11, 20), untouched.currency)

    docs, _ = read(connection, sandbox, date_from=NOVEMBER[0], date_to=NOVEMBER[1])
    found = by_reference(docs)
    assert gone(docs, deleted.reference)
    [changed] = found[edited.reference]
    assert changed.amount == Decimal("99.00")
    assert sum(line.debit for line in changed.lines) == sum(line.credit for line in changed.lines)
    assert {d.external_id for d in found[duplicated.reference]} == {ids[2], copy_id} and copy_id != ids[2]
    assert_same(found[untouched.reference][0], untouched, ids[3], status(kit))
    [manual] = [d for d in docs if d.external_id == manual_id]
    assert manual.reference == "" and manual.status == "posted"
    assert net_per_account(manual.lines)[connection.employees_balance_account] == Decimal("42.00")
    # Verification reads by reference: the copy must show there too, not only in the month.
    docs, _ = read(connection, sandbox, references=[duplicated.reference, untouched.reference])
    found = by_reference(docs)
    assert {d.external_id for d in found[duplicated.reference] if d.status != "cancelled"} == {ids[2], copy_id}
    assert [d.external_id for d in found[untouched.reference]] == [ids[3]]


def test_posting_into_a_locked_period_is_period_closed(connection, kit, sandbox):
    connection.settings = {**connection.settings, **getattr(kit, "POSTING_SETTINGS", {})}
    connection.save(update_fields=["settings"])
    connector = connector_for(connection)
    kit.lock_period(sandbox, connection, date(2026, 10, 31))
    with pytest.raises(PeriodClosed) as exc:
        connector.push(dated(kit.sample_entry(sandbox, connection, "EXPENSICO-lk1-v1"), date(2026, 10, 15)), key())
    assert exc.value.code == "period_closed" and exc.value.field == "date"
    if getattr(kit, "PERIOD_END_REPORTED", False):
        assert exc.value.period_end == "2026-10-31"
    assert exc.value.period_end in (None, "2026-10-31")
    after = dated(kit.sample_entry(sandbox, connection, "EXPENSICO-lk2-v1"), date(2026, 11, 1))
    assert connector.push(after, key()).external_id
    assert "EXPENSICO-lk1-v1" not in connector.find_by_reference(["EXPENSICO-lk1-v1"])
