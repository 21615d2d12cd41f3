"""Reading Xledger's import state from one `LOOKUP` answer. Pure: no network, no database.

Xledger turns GL import rows into journal entries in a later job; a voucher that job cannot take
leaves `glImportItemErrors` rows (objectValue = the voucher's extIdentifier) and books nothing.
A failed voucher may be sent again under the same reference, so a reference can carry several
imports. Which import an error row belongs to is told by Xledger's own clock: an error is about
the import rows created at or before it, so the newest import is live unless an error row
came at or after all of its rows. Only vendor timestamps are compared, never with ours.
"""

from datetime import UTC, datetime

from ..base import ImportFailure, RemoteDocument
from . import schema
from .lookup import CET

_EPOCH = datetime.min.replace(tzinfo=UTC)


def moment(value: str | None) -> datetime:
    """A vendor timestamp, comparable with the others (naive ones are Xledger's CET)."""
    if not value:
        return _EPOCH
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=CET)


def newest_import(rows: list[dict], errors: list[dict]) -> tuple[list[dict], str]:
    """(rows of the newest import, why it failed or ""). Rows newer than every error row are the
    live import; with none, the newest import failed and all rows are returned."""
    last = max(errors, key=lambda e: moment(e.get("createdAt")), default=None)
    if last is None:
        return rows, ""
    after = moment(last.get("createdAt"))
    newer = [r for r in rows if moment(r.get("createdAt")) > after]
    if newer:
        return newer, ""
    return rows, last.get("message") or "import failed"


def _by(edges: list[dict], key: str) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for edge in edges:
        out.setdefault(edge["node"][key], []).append(edge["node"])
    return out


def documents(data: dict) -> tuple[dict[str, RemoteDocument], set[str]]:
    """({reference: its newest import}, references a live reversing voucher names). A reversing
    voucher's own failures are seen only when its reference was among those looked up."""
    errors = _by(data["errors"]["edges"], "objectValue")
    found = {}
    for ref, rows in _by(data["items"]["edges"], "extIdentifier").items():
        current, failed = newest_import(rows, errors.get(ref, []))
        found[ref] = RemoteDocument(
            reference=ref, external_id=f"GLI:{min(int(r['dbId']) for r in current)}",
            status=f"import failed: {failed}" if failed else "imported",
            amount=str(schema.voucher_total([r["amount"] for r in current])), live=not failed)
    reversed_refs = set()
    for original, rows in _by(data["reversals"]["edges"], "yourReference").items():
        for ext, voucher in _by([{"node": r} for r in rows], "extIdentifier").items():
            if not newest_import(voucher, errors.get(ext, []))[1]:
                reversed_refs.add(original)
    return found, reversed_refs


def failure(row: dict) -> ImportFailure:
    level = row.get("errorLevel") or {}
    return ImportFailure(error_id=str(row["dbId"]), reference=row.get("objectValue") or "",
                         message=row.get("message") or "", created_at=row.get("createdAt") or "",
                         level=level.get("code") or "", row=row)
