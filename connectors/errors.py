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


class AuthExpired(ConnectorError):
    """Credentials are rejected or revoked and refreshing did not help: a person must reconnect."""
