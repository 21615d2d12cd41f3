"""The error taxonomy (ARCHITECTURE §4). Translated once at the HTTP edge; every decision in
exports dispatches on these classes, never on message strings."""


class ConnectorError(Exception):
    """Base class. `request_id` is the vendor's, when it sent one."""

    def __init__(self, message: str = "", *, request_id: str = "", status: int | None = None):
        super().__init__(message)
        self.message = message
        self.request_id = request_id
        self.status = status


class Transient(ConnectorError):
    """Timeouts before sending, 5xx, connection refused: safe to retry with the same key."""


class RateLimited(Transient):
    def __init__(self, message: str = "rate limited", *, retry_after: float | None = None, **kw):
        super().__init__(message, **kw)
        self.retry_after = retry_after


class OutcomeUnknown(ConnectorError):
    """The request may have reached the vendor (read timeout, reset after send, lost response).
    Resolve with find_by_reference before anything is re-sent."""


class Permanent(ConnectorError):
    """Validation and other errors that retrying cannot fix. `field` names the offending field."""

    def __init__(self, message: str = "", *, code: str = "invalid", field: str | None = None, **kw):
        super().__init__(message, **kw)
        self.code = code
        self.field = field


class PeriodClosed(Permanent):
    """The vendor refused a posting because the document's date falls in a locked/closed period.
    `period_end` (ISO date, when the vendor says) lets the engine choose the next open day."""

    def __init__(self, message: str = "", *, period_end: str | None = None, field: str | None = "date", **kw):
        super().__init__(message, code="period_closed", field=field, **kw)
        self.period_end = period_end


class AuthExpired(ConnectorError):
    """Credentials are rejected or revoked and refreshing did not help: a person must reconnect."""


class UnexpectedAnswer(Permanent):
    """The vendor answered, but not in the shape its contract promises (a key missing, a list
    where an object belongs, a page of HTML). `field` names what was missing, when we know it."""

    def __init__(self, message: str = "", *, field: str | None = None, **kw):
        super().__init__(message, code="unexpected_answer", field=field, **kw)


class AnswerShapeError(ValueError):
    """Raised by a client that parses answers with a library of its own (SOAP, XML) when the
    answer cannot be parsed at all; connectors translate it like a missing key."""


class UnsupportedEntry(ValueError):
    """A vendor's schema cannot express the entry (schemas are pure, so they raise this; the
    connector turns it into `Permanent(code, field)`). `code` defaults to the class's."""

    code = "unsupported_entry"

    def __init__(self, message: str, field: str | None = None, code: str | None = None):
        super().__init__(message)
        self.field = field
        self.code = code or type(self).code


class RemoteCallInTransaction(RuntimeError):
    """A request was about to leave while a transaction is open: a bug in the caller, not a vendor
    answer, so deliberately outside ConnectorError (no export decision may swallow it)."""


# What escapes a connector that read an answer of another shape than the one it was written for.
SHAPE_ERRORS = (KeyError, IndexError, TypeError, AttributeError, AnswerShapeError)


def unexpected_answer(vendor: str, exc: Exception) -> UnexpectedAnswer:
    """Names what was missing: KeyError('financial_settings') → "…'s answer has no 'financial_settings'"."""
    missing = exc.args[0] if isinstance(exc, KeyError) and exc.args else getattr(exc, "name", None)
    if isinstance(exc, KeyError | AttributeError) and missing is not None:
        return UnexpectedAnswer(f"{vendor}'s answer has no {str(missing)!r}", field=str(missing))
    if isinstance(exc, IndexError):
        return UnexpectedAnswer(f"{vendor}'s answer has fewer items than expected ({exc})")
    return UnexpectedAnswer(f"{vendor}'s answer is not in the expected shape ({type(exc).__name__}: {exc})")
