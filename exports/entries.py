"""AccountingEntry <-> JSON for the stored preview, and the reversal of a stored entry.

Decimals travel as strings so a preview round-trips exactly (money is never float)."""

import dataclasses
from datetime import date
from decimal import Decimal

from connectors.entry import (
    AccountingEntry,
    Attachment,
    Dimension,
    EntryKind,
    EntryLine,
    LineRole,
)


def _plain(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def entry_to_json(entry: AccountingEntry) -> dict:
    return _plain(dataclasses.asdict(entry))


def _dec(value):
    return None if value is None else Decimal(value)


def entry_from_json(data: dict) -> AccountingEntry:
    lines = tuple(
        EntryLine(
            role=LineRole(line["role"]), account=line["account"], debit=Decimal(line["debit"]),
            credit=Decimal(line["credit"]), description=line.get("description", ""),
            tax_rate=line.get("tax_rate"), tax_amount=Decimal(line.get("tax_amount", "0")),
            tax_inclusive=line.get("tax_inclusive", True),
            dimensions=tuple(Dimension(**d) for d in line.get("dimensions", ())),
        )
        for line in data["lines"]
    )
    simple = {f.name for f in dataclasses.fields(AccountingEntry)} - {
        "kind", "date", "lines", "exchange_rate", "amount", "attachments", "extra"}
    return AccountingEntry(
        kind=EntryKind(data["kind"]), date=date.fromisoformat(data["date"]), lines=lines,
        exchange_rate=_dec(data.get("exchange_rate")), amount=_dec(data.get("amount")),
        attachments=tuple(Attachment(**a) for a in data.get("attachments", ())),
        extra=tuple(tuple(pair) for pair in data.get("extra", ())),
        **{k: v for k, v in data.items() if k in simple},
    )


def reversal_reference(reference: str) -> str:
    return f"{reference}-R"


def reversal_of(entry: AccountingEntry, *, on: date) -> AccountingEntry:
    """The mirror image of a booked entry: every debit becomes a credit and vice versa."""
    lines = tuple(dataclasses.replace(line, debit=line.credit, credit=line.debit) for line in entry.lines)
    return dataclasses.replace(
        entry, kind=EntryKind.REVERSAL, reference=reversal_reference(entry.reference), date=on, lines=lines,
        reverses=entry.reference, amount=None if entry.amount is None else -entry.amount,
        description=f"Reversal of {entry.reference}",
    )


def redated(entry: AccountingEntry, *, on: date, original: date | None = None) -> AccountingEntry:
    """The same entry posted on `on` because its own period is closed; the memo keeps the date
    the document really has, so the books show why it landed in another month. Lines with a text
    of their own carry it too: some vendors show only line texts (Xledger's voucher lines)."""
    original = original or entry.date
    if on == entry.date:
        return entry
    note = f"(original date {original.isoformat()})"
    lines = tuple(dataclasses.replace(line, description=f"{line.description} {note}") if line.description else line
                  for line in entry.lines)
    return dataclasses.replace(entry, date=on, description=f"{entry.description} {note}".strip(), lines=lines)
