"""The expense's receipts as Workday `Attachment_Data` on the Submit_Accounting_Journal request
(Accounting_Journal_DataType, after the lines; Financials_Attachment_DataType in the v30 XSD):
`File_Content` (base64Binary), `Comment`, and the attributes `wd:Filename` (≤ 255 characters) and
`wd:Content_Type` (≤ 80). The bytes come from our storage (connectors/receipts.py), as for Wafeq
and Business Central.

Size: Workday documents no limit for attachments on a web-service journal, and the whole journal is
one SOAP request, its files base64 inside it (a third larger). A journal carries at most
MAX_JOURNAL_BYTES of receipts (20 MiB: any one receipt our intake accepts at its default
RECEIPT_MAX_BYTES fits, about 27 MiB on the wire); receipts past it are left out, each with a
warning the booked record shows, rather than holding the booking back."""

import base64
import hashlib
from pathlib import PurePosixPath

from ..entry import AccountingEntry, Attachment

MAX_JOURNAL_BYTES = 20 * 1024 * 1024
MAX_FILENAME = 255
MAX_CONTENT_TYPE = 80
FALLBACK_TYPE = "application/octet-stream"


def _filename(name: str) -> str:
    """Within 255 characters, the extension kept (Workday opens a file by it)."""
    if len(name) <= MAX_FILENAME:
        return name
    suffix = PurePosixPath(name).suffix[:20]
    return name[:MAX_FILENAME - len(suffix)] + suffix


def _item(entry: AccountingEntry, att: Attachment, content: str) -> dict:
    content_type = att.content_type if 0 < len(att.content_type) <= MAX_CONTENT_TYPE else FALLBACK_TYPE
    return {"Filename": _filename(att.filename or att.source_id or "receipt"), "Content_Type": content_type,
            "File_Content": content, "Comment": f"Expensico receipt {att.source_id} of {entry.reference}"}


def attachment_data(entry: AccountingEntry, files: list[tuple[Attachment, bytes]], warnings: list[str]) -> list[dict]:
    """Attachment_Data for the receipts read from storage, within MAX_JOURNAL_BYTES in all."""
    out, total = [], 0
    for att, data in files:
        if total + len(data) > MAX_JOURNAL_BYTES:
            warnings.append(f"receipt {att.filename} ({len(data)} bytes) left out: a Workday journal carries at "
                            f"most {MAX_JOURNAL_BYTES} bytes of receipts")
            continue
        total += len(data)
        out.append(_item(entry, att, base64.b64encode(data).decode("ascii")))
    return out


def described(entry: AccountingEntry) -> list[dict]:
    """Attachment_Data as a preview shows it: what will be sent, without the files' bytes."""
    return [_item(entry, att, f"<{att.size} bytes of {att.storage_path or 'a receipt not fetched yet'}, "
                              f"base64 at push>") for att in entry.attachments]


def held(data) -> tuple[tuple[str, str], ...]:
    """(file name, SHA-256 of the content) of each attachment on a journal read back (zeep has
    decoded File_Content to bytes)."""
    out = []
    for att in getattr(data, "Attachment_Data", None) or []:
        content = att.File_Content or b""
        if isinstance(content, str):
            content = base64.b64decode(content)
        out.append((att.Filename or "", hashlib.sha256(content).hexdigest()))
    return tuple(out)
