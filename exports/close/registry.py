"""What a month's close is made of, registered by the modules that own each part.

The checklist and the evidence pack are assembled here from registered parts, so reconciliation,
verification, receipts, coding and the rest each contribute their own item without this module
importing them. A `period` is always the first day of the month (`datetime.date`).
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class ItemResult:
    ok: bool
    summary: str                      # one line a finance admin reads ("3 differences, 2 explained")
    count: int = 0                    # how many things are not ok
    url: str = ""                     # drill-down (admin changelist with filters), "" when none
    details: tuple[str, ...] = ()
    # The summary as a msgid with {placeholders} and their values: the page shows it in the reader's
    # language (the stored `summary` is in the language it was computed in). "" when not translatable.
    words: str = ""
    values: Mapping[str, object] = field(default_factory=dict)
    # The detail lines the same way, one per line of `details` (empty: the lines are data, shown as
    # they are): {"words": msgid with {placeholders}, "values": {…}, "translate": [names of values
    # that are msgids themselves]}.
    detail_words: tuple[dict, ...] = ()


@dataclass(frozen=True)
class ChecklistItem:
    key: str
    label: str
    order: int
    compute: Callable[..., ItemResult]    # compute(organization, period: date) -> ItemResult


@dataclass(frozen=True)
class EvidencePart:
    key: str
    order: int
    # build(connection, period: date) -> list[(file name inside the zip, bytes)]
    build: Callable[..., list[tuple[str, bytes]]] = field(compare=False)


_items: dict[str, ChecklistItem] = {}
_parts: dict[str, EvidencePart] = {}


def checklist_item(key: str, label: str, *, order: int = 100):
    """Decorator: registers `compute(organization, period) -> ItemResult` as a checklist item."""
    def register(fn):
        _items[key] = ChecklistItem(key, label, order, fn)
        return fn
    return register


def evidence_part(key: str, *, order: int = 100):
    """Decorator: registers `build(connection, period) -> [(name, bytes)]` for the evidence pack."""
    def register(fn):
        _parts[key] = EvidencePart(key, order, fn)
        return fn
    return register


def detail_line(words: str, *, translate: tuple[str, ...] = (), **values: object) -> tuple[str, dict]:
    """A detail line: (its English text, how to say it again in the reader's language)."""
    return words.format(**values), {"words": words, "values": values, "translate": list(translate)}


def checklist_row_words(row: dict) -> dict:
    """A stored checklist row with its label, summary and detail lines in the active language (rows
    store msgids; a row stored before its lines had words shows them as stored)."""
    from django.utils.translation import gettext

    summary = gettext(row["words"]).format(**row.get("values", {})) if row.get("words") else row["summary"]
    lines = row.get("detail_words") or []
    details = [gettext(line["words"]).format(**{name: gettext(value) if name in line.get("translate", ()) else value
                                                for name, value in line["values"].items()})
               for line in lines] if len(lines) == len(row.get("details") or []) else row.get("details")
    return {**row, "label": gettext(str(row["label"])), "summary": summary, "details": details}


def checklist_items() -> list[ChecklistItem]:
    return sorted(_items.values(), key=lambda item: (item.order, item.key))


def evidence_parts() -> list[EvidencePart]:
    return sorted(_parts.values(), key=lambda part: (part.order, part.key))


def month_start(value: date) -> date:
    return value.replace(day=1)
