"""Moon ERP's ledger read back (Connector.read_back): the expense list filtered by
`date_from`/`date_to`, 25 a page (Moon's only page size), plus the journal entries posted by hand
(`source_type=manual`), which carry no reference of ours. Pure conversions; the connector pages.

A cancelled expense's mirror entry may be dated after it (Moon cancels into the open period once
the expense's own is closed; sandbox store): the connector lists the reversing entries dated from
the range's first day (`reversals=1`) and `settle_cancellations` pairs them. A cancelled expense of
the range whose reversal falls after it still stands in the range (posted); a reversal dated in
the range for an expense outside it is a reversing document of the range, under our reversal's
reference (`<reference>-R`), its lines the expense's mirrored.

An expense's lines are given in our entry's shape: the category line carries the gross with its tax
included (`tax_amount`, `tax_rate`), the paying account is credited the total; Moon's own journal
splits the tax onto the rate's account, which changes no control account and no total.
"""

import dataclasses
from datetime import date
from decimal import Decimal

from ..base import VendorDocument, VendorLine
from . import schema

STATUS = {"approved": "posted", "draft": "draft", "cancelled": "cancelled"}
DIMENSIONS = {"cost_center_id": "cost_center", "branch_id": "branch"}


def reference_of(row: dict) -> str:
    """Our reference leads the notes and ends the description (schema.expense_payload); an expense
    typed in Moon has neither mark, so it reads back with no reference."""
    first = (row.get("notes") or "").split("\n", 1)[0].strip()
    return first if first and (row.get("description") or "").endswith(f"[{first}]") else ""


def expense_document(row: dict, currency: str) -> VendorDocument:
    total, tax = Decimal(str(row["total_amount"])), Decimal(str(row.get("tax_amount") or "0"))
    dims = tuple((kind, str(row[f])) for f, kind in DIMENSIONS.items() if row.get(f))
    lines = (VendorLine(account=schema.category_remote_id(row["expense_category_id"]), debit=total, tax_amount=tax,
                        tax_rate=str(row["tax_rate_id"]) if row.get("tax_rate_id") else None,
                        description=row.get("description") or "", dimensions=dims),
             VendorLine(account=str(row["paying_account_id"]), credit=total, description="Total payment"))
    return VendorDocument(reference=reference_of(row), external_id=str(row["id"]), date=date.fromisoformat(row["date"]),
                          currency=currency, amount=total, status=STATUS[row["status"]], lines=lines,
                          memo=row.get("description") or "", raw=row)


def manual_document(row: dict, currency: str) -> VendorDocument:
    lines = tuple(VendorLine(account=str(line["account_id"]), debit=Decimal(str(line["debit"])),
                             credit=Decimal(str(line["credit"])), description=line.get("description") or "",
                             dimensions=(("cost_center", str(line["cost_center_id"])),)
                             if line.get("cost_center_id") else ())
                  for line in row["lines"])
    return VendorDocument(reference="", external_id=f"journal:{row['id']}", date=date.fromisoformat(row["date"]),
                          currency=currency, amount=Decimal(str(row["total_debit"])),
                          status="cancelled" if row.get("reversed_by") else "posted", lines=lines,
                          memo=row.get("description") or "", raw=row)


def _within(on: str, first: str | None, last: str | None) -> bool:
    return (first is None or on >= first) and (last is None or on <= last)


def settle_cancellations(held: dict[int, VendorDocument], reversals: list[dict], *, first: str | None,
                         last: str | None) -> tuple[list[VendorDocument], dict[int, dict]]:
    """`held`: the range's cancelled expenses by id; `reversals`: the reversing journal entries
    dated from `first` on. (the held documents as they stand in the range, {expense id: reversing
    journal} of reversals in the range whose expense lies outside it)."""
    outside: dict[int, dict] = {}
    later: set[int] = set()
    for journal in reversals:
        expense_id = int(journal["source_id"])
        if expense_id in held:
            if not _within(journal["date"], first, last):
                later.add(expense_id)
        elif _within(journal["date"], first, last) and journal.get("source_type") == "expense":
            outside[expense_id] = journal
    docs = [dataclasses.replace(doc, status="posted") if expense_id in later else doc
            for expense_id, doc in held.items()]
    return docs, outside


def reversing_document(expense: dict, journal: dict, currency: str) -> VendorDocument:
    """The mirror of a cancelled expense, as the reversing journal dated in another period books it."""
    doc = expense_document(expense, currency)
    lines = tuple(dataclasses.replace(line, debit=line.credit, credit=line.debit) for line in doc.lines)
    return dataclasses.replace(doc, reference=f"{doc.reference}-R" if doc.reference else "",
                               external_id=f"cancel:{expense['id']}", date=date.fromisoformat(journal["date"]),
                               status="posted", lines=lines, memo=journal.get("description") or "", raw=journal)
