"""Workday journals read back through Apideck (Connector.read_back): the journal-entry list, 200 a
page (the spec's maximum) with `meta.cursors.next`. The shipped 10.34 contract filters the list by
`updated_since` and `status` only (`start_date`/`end_date`/`number` came later), neither of which
selects by booking date or reference, so the whole list is paged and narrowed here by `posted_at`
and `number`. Workday expenses cannot be listed through Apideck (501): entries pushed as
expenses are not read back. Pure conversions; the connector pages.
"""

from datetime import date
from decimal import Decimal

from ..base import VendorDocument, VendorLine

PAGE_SIZE = 200
STATUS = {"posted": "posted", "approved": "posted", "voided": "cancelled", "deleted": "cancelled",
          "rejected": "cancelled"}       # draft, pending_approval, other: not booked yet


def booked_on(row: dict) -> date | None:
    """The booking date: `posted_at`, or for an entry made without one, the day it was created."""
    stamp = row.get("posted_at") or row.get("created_at") or ""
    return date.fromisoformat(stamp[:10]) if stamp else None


def wanted(row: dict, *, date_from: date | None, date_to: date | None, references: set[str]) -> bool:
    if references:
        return row.get("number") in references
    on = booked_on(row)
    if on is None:
        return date_from is None and date_to is None
    return (date_from is None or on >= date_from) and (date_to is None or on <= date_to)


def _line(item: dict) -> VendorLine:
    amount = abs(Decimal(str(item.get("total_amount") or 0)))
    debit = item.get("type") == "debit"
    return VendorLine(account=(item.get("ledger_account") or {}).get("id") or "",
                      debit=amount if debit else Decimal(0), credit=Decimal(0) if debit else amount,
                      tax_amount=Decimal(str(item.get("tax_amount") or 0)),
                      tax_rate=(item.get("tax_rate") or {}).get("id"), description=item.get("description") or "",
                      dimensions=tuple(sorted((f"worktag:{t.get('id')}", t.get("value"))
                                              for t in item.get("worktags") or [])))


def document(row: dict) -> VendorDocument:
    lines = tuple(_line(item) for item in row.get("line_items") or [])
    return VendorDocument(reference=row.get("number") or "", external_id=row["id"], date=booked_on(row),
                          currency=row.get("currency") or "", amount=sum((li.debit for li in lines), Decimal(0)),
                          status=STATUS.get(row.get("status"), "draft"), lines=lines, memo=row.get("memo") or "",
                          raw=row)
