"""No remote call inside `transaction.atomic` (ARCHITECTURE §4), enforced where requests leave.

A call made while a transaction is open holds its locks for as long as the vendor takes, and
its outcome is lost if the transaction rolls back after the vendor has booked the document.
The HTTP stack checks before every request; the one deliberate exception (the OAuth refresh
under the connection's row lock, see connectors/oauth.py) says so with `remote_call_in_atomic`.
"""

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import connections

from .errors import RemoteCallInTransaction

_exemption: ContextVar[str] = ContextVar("remote_call_in_atomic", default="")

# Frames of the sending machinery: the caller we name is the first frame outside them.
_MACHINERY = ("connectors.atomic_guard", "connectors.http", "connectors.base", "requests", "urllib3", "stamina",
              "authlib", "msal", "contextlib", "functools")


@contextmanager
def remote_call_in_atomic(*, reason: str) -> Iterator[None]:
    """Allows requests inside a transaction for this block only. `reason` is required so each
    exception documents itself where it is made."""
    if not reason.strip():
        raise ValueError("remote_call_in_atomic needs a reason")
    token = _exemption.set(reason)
    try:
        yield
    finally:
        _exemption.reset(token)


def in_transaction() -> bool:
    """True inside an atomic block the code opened. The blocks a test case opens around each test
    (pytest-django's `db`) are marked by Django itself (`_from_testcase`) and do not count, so the
    rule is enforced in tests exactly as in production."""
    return any(not block._from_testcase
               for conn in connections.all(initialized_only=True) if conn.in_atomic_block
               for block in conn.atomic_blocks)


def outside_atomic_check(*, what: str) -> None:
    if _exemption.get() or not in_transaction():
        return
    raise RemoteCallInTransaction(
        f"{what} inside transaction.atomic, called from {_caller()}: record the intent, commit, then call out")


def _caller() -> str:
    frame = sys._getframe(1)
    named, outside = "", ""
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if not module.startswith(_MACHINERY):
            where = f"{module}.{frame.f_code.co_qualname} (line {frame.f_lineno})"
            named = named or where
            if not module.startswith("connectors."):
                outside = where
                break
        frame = frame.f_back
    if outside and outside != named:
        return f"{named}, reached from {outside}"
    return named or "an unknown caller"
