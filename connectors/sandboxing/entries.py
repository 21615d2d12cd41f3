"""Entries the vendors' testkits hand the contract suite, built the same way for every vendor:
a reversal of a sample entry, and a sample entry whose first line the vendor must refuse."""

from ..entry import AccountingEntry, EntryKind, EntryLine


def sample_reversal(entry: AccountingEntry, *, keep: tuple[str, ...] = ()) -> AccountingEntry:
    """`entry` reversed (reference + "-R"): each line's debit and credit swapped, carrying of the
    line's other fields only those in `keep` (what the vendor's reversal carries)."""
    return AccountingEntry(
        kind=EntryKind.REVERSAL, reference=entry.reference + "-R", date=entry.date, currency=entry.currency,
        reverses=entry.reference, description=f"Reversal of {entry.reference}",
        lines=tuple(EntryLine(role=line.role, account=line.account, debit=line.credit, credit=line.debit,
                              **{name: getattr(line, name) for name in keep})
                    for line in entry.lines))


def with_bad_line(entry: AccountingEntry, reference: str, bad: EntryLine) -> AccountingEntry:
    """`entry` under `reference` with `bad` in place of its first line (its merchant dropped)."""
    return AccountingEntry(kind=entry.kind, reference=reference, date=entry.date, currency=entry.currency,
                           description=entry.description, lines=(bad, entry.lines[1]))
