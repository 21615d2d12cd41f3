"""Receipts as a connector sends them: read from our storage before anything goes out."""

from django.core.files.storage import default_storage

from .entry import AccountingEntry, Attachment


def receipt_files(entry: AccountingEntry, warnings: list[str]) -> list[tuple[Attachment, bytes]]:
    """The entry's receipts with their bytes. One not downloaded from Expensico yet is left out
    with a warning (a person sees it on the booked record) rather than holding the booking back."""
    out = []
    for att in entry.attachments:
        if not att.storage_path or not default_storage.exists(att.storage_path):
            warnings.append(f"receipt {att.filename} not fetched yet; pushed without it")
            continue
        with default_storage.open(att.storage_path, "rb") as fh:
            out.append((att, fh.read()))
    return out
