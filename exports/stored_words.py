"""Texts of ours stored as English only, in columns with no message code beside them (an export
record's `wait_reason`, an attempt's `error_message` and `notes`): matched back to their code by
the English template, so the admin shows them in the reader's language. Only the codes named here
are matched, each template whole; anything else (the vendor's own words, a text of another
version) is shown as stored."""

import re
from functools import cache

from .messages import TEXTS, shown

# Why a record waits (services/gates.py, outcomes.py, worker.py, reversals.py).
WAITS = ("wait_organisation_paused", "wait_dry_run", "wait_pilot", "wait_connection_paused",
         "wait_connection_inactive", "wait_breaker_open", "wait_rate_limited", "wait_original",
         "wait_original_moving")
# What an attempt row says of itself: its error_message when no vendor spoke, and our notes.
# "rate limited" is the connectors' own word for a 429 that came without one of the vendor's; the
# rate window, in-flight limit and open breaker are theirs too (nothing was sent).
ATTEMPTS = ("attempt_reconciled", "attempt_lease_lost", "attempt_already_there", "redated", "wait_rate_limited",
            "client_rate_limit", "client_rate_window", "client_in_flight", "circuit_open_until",
            "attempt_already_reversed", "attempt_already_deleted")


@cache
def _pattern(code: str) -> re.Pattern[str]:
    parts = re.split(r"%\((\w+)\)s", TEXTS[code])
    # parts alternate: literal, name, literal, name, …, literal
    body = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)" for i, part in enumerate(parts))
    return re.compile(f"^{body}$", re.S)


def recognised(text: str, codes: tuple[str, ...]) -> dict | None:
    """The stored message ({"code", "params"}) whose English `text` is, among `codes`; None if none."""
    for code in codes:
        match = _pattern(code).match(text or "")
        if match:
            return {"code": code, "params": match.groupdict()}
    return None


def words_shown(text: str, codes: tuple[str, ...]) -> str:
    """`text` in the active language when it is one of `codes`' English texts; as stored otherwise."""
    return shown(text, recognised(text, codes))


def wait_shown(reason: str) -> str:
    return words_shown(reason, WAITS)


def attempt_shown(text: str) -> str:
    return words_shown(text, ATTEMPTS)
