"""What the read-back tests of Workday, Apideck and Moon ERP share: November, a read, a push of
the testkit's sample entry, and the four tamper hooks every testkit offers, applied and read back
(the checks that hold for every vendor made here; each test adds its vendor's own)."""

import uuid
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

from connectors.base import VendorDocument, connector_for

NOV = {"date_from": date(2026, 11, 1), "date_to": date(2026, 11, 30)}


def read(conn, **kw):
    pages = list(connector_for(conn).read_back(**kw))
    return pages, [d for p in pages for d in p.documents]


def pusher(kit):
    """`push(conn, server, reference, amount=…, on=…)`: the kit's sample entry, dated `on`; its id."""
    def push(conn, server, reference, amount=Decimal("115.00"), on=date(2026, 11, 1)):
        entry = replace(kit.sample_entry(server, conn, reference, amount=amount), date=on)
        return connector_for(conn).push(entry, str(uuid.uuid4())).external_id
    return push


@dataclass
class Tampered:
    deleted: str
    edited: str
    copied: str
    copy: str
    by_hand: str
    by_id: dict[str, VendorDocument]


def tampered_read(kit: Any, conn, server, push) -> Tampered:
    """Three documents pushed, then one deleted, one's amount edited to 140, one copied, and a
    50 debit to the Employees Balance posted by hand; November read back."""
    deleted = push(conn, server, "EXPENSICO-t1-v1")
    edited = push(conn, server, "EXPENSICO-t2-v1")
    copied = push(conn, server, "EXPENSICO-t3-v1")
    kit.tamper_delete(server, conn, deleted)
    kit.tamper_edit_amount(server, conn, edited, Decimal("140.00"))
    copy = kit.tamper_duplicate(server, conn, copied)
    by_hand = kit.tamper_manual_post(server, conn, conn.employees_balance_account, Decimal("50.00"),
                                     date(2026, 11, 20), "SAR")
    _, docs = read(conn, **NOV)
    by_id = {d.external_id: d for d in docs}
    assert by_id[edited].amount == Decimal("140.00")
    assert [line.debit - line.credit for line in by_id[edited].lines] == [Decimal("140.00"), Decimal("-140.00")]
    assert copy != copied and (by_id[copy].reference, by_id[copy].status) == ("EXPENSICO-t3-v1", "posted")
    manual = by_id[by_hand]
    assert (manual.reference, manual.status, manual.amount) == ("", "posted", Decimal("50.00"))
    assert [(line.account, line.debit) for line in manual.lines if line.debit] == [
        (conn.employees_balance_account, Decimal("50.00"))]
    return Tampered(deleted, edited, copied, copy, by_hand, by_id)
