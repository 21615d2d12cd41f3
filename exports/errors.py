"""What the export engine raises to refuse work, as one hierarchy: the API and the admin catch
`Refused` and show its `code` (stable for API clients) and message. Vendor answers are not here:
they are the connectors' taxonomy (connectors/errors.py).

The detail is English (the API sends it as it is); one of our messages (`said(code, …)`, exports/
messages.py) also reads in the admin reader's language (exports/refusals.py)."""

from typing import Any


class Refused(Exception):
    """The engine will not do what was asked; nothing changed."""

    code = "invalid"

    def __init__(self, detail: str = "", *, code: str | None = None):
        super().__init__(detail)
        self.code = code or type(self).code
        self.detail: Any = detail     # a Message (exports/messages.py) when the text is ours


class ExportError(Refused):
    """An export action (export now, cancel, retry, re-export, a vendor callback) refused."""


class ReviewError(Refused):
    """A review decision that cannot be taken on this item."""


class StaleRecord(Refused):
    """Someone else moved the record first; re-read and decide again."""

    code = "stale"


class IllegalTransition(Refused):
    """A status change the record's status machine (transitions.py) does not allow."""

    code = "illegal_transition"

    def __init__(self, current: str, target: str):
        super().__init__(f"an export record cannot go from {current} to {target}")
        self.current = current
        self.target = target


class NoSourceDocument(Refused, ValueError):
    """A record with no source document to build an entry from (a reversal undoes its original)."""

    code = "no_source_document"
