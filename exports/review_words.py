"""A review item in words: the vendor's error without its JSON, and the one thing that fixes it.

The worker stores what the vendor said (often a JSON body or a `path: {...}` prefix); a finance
admin needs the sentence inside it. The fix per reason is what the review screen offers first."""

import json
import re

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .models import ReviewItem

R = ReviewItem.Reason
MESSAGE_KEYS = ("message", "detail", "error_description", "title", "error", "description", "msg", "reason")

# reason → (what fixes it, the action offered). Actions: retry, release, receipt, accept, acknowledge,
# mapping, reconnect, book_manually, anomaly (decided on its flag's page: exports/review_links.py).
FIXES: dict[str, tuple[Promise, str]] = {
    R.MAPPING_GAP: (_("Add the missing mapping; the record goes again by itself."), "mapping"),
    R.VALIDATION: (_("Correct what the vendor refused (the mapping or the connection's settings), then retry."),
                   "retry"),
    R.AUTH: (_("Re-authorise the connection, then retry."), "reconnect"),
    R.DUPLICATE_CONFLICT: (_("The vendor already holds this document: book it manually under its reference."),
                           "book_manually"),
    R.REMOTE_ERROR: (_("The vendor failed on its side: retry."), "retry"),
    R.RETRIES_EXHAUSTED: (_("The vendor did not answer in time, repeatedly: retry."), "retry"),
    R.HOLD_RULE: (_("A rule holds this expense: approve it to export."), "release"),
    R.MISSING_RECEIPT: (_("The receipt is missing: retry once it has arrived, or book without it and say why."),
                        "receipt"),
    R.VENDOR_WARNING: (_("Booked; the vendor said something worth reading: acknowledge it."), "acknowledge"),
    R.IMPORT_FAILED: (_("The vendor's import job failed and nothing was booked: correct it, then retry."), "retry"),
    R.VENDOR_MISMATCH: (_("Someone changed the document in the vendor after booking: check it, then acknowledge."),
                        "acknowledge"),
    R.POSSIBLE_DUPLICATE: (_("Looks like an expense already booked: skip it if it is, or retry."), "retry"),
    R.PERIOD_CLOSED: (_("The period is closed: reopen it in the vendor or change the close policy, then retry."),
                      "retry"),
    R.PREFLIGHT_FAILED: (_("The vendor would refuse it: correct the mapping or settings, then retry."), "retry"),
    R.SUGGESTED_CODING: (_("Accept the suggested account or pick the right one."), "accept"),
    R.ANOMALY: (_("Unusual spend: check the expense, then dismiss the flag (not unusual here) or confirm it."),
                "anomaly"),
}
# Our own signed-off month (not the vendor's lock): only reopening it, or the policy, lets it through.
OWN_CLOSE = _("Your organisation signed this month off: reopen the month (or let the connection post to the next "
              "open day), then retry.")


def fix_for(item: ReviewItem) -> tuple[str, str]:
    """(sentence, action) for an item; a flag on a booked record is always acknowledged."""
    text, action = FIXES.get(item.reason, (_("Retry once the cause is fixed."), "retry"))
    if item.reason == R.PERIOD_CLOSED and item.context.get("closed_by") == "close":
        text = OWN_CLOSE
    if item.is_warning and action not in ("acknowledge", "anomaly"):
        return str(_("Booked and flagged: check it, then acknowledge.")), "acknowledge"
    return str(text), action


def _messages(value) -> list[str]:
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, list):
        return [m for v in value for m in _messages(v)]
    if isinstance(value, dict):
        found = [m for key in MESSAGE_KEYS if key in value for m in _messages(value[key])]
        if found:
            return found
        if "errors" in value:
            return _messages(value["errors"])
        # {"field": ["message"]}: field-keyed validation errors.
        return [f"{key}: {m}" for key, v in value.items() for m in _messages(v) if not isinstance(v, dict)]
    return []


def _json_at(text: str, start: int):
    try:
        value, end = json.JSONDecoder().raw_decode(text[start:])
    except ValueError:
        return None, start
    return value, start + end


def error_in_words(text: str) -> str:
    """The vendor's message without JSON: `{"error": {"message": "Account 4000 is blocked"}}` →
    `Account 4000 is blocked`. Text without JSON comes back as it was (trimmed)."""
    text = (text or "").strip()
    for match in re.finditer(r"[{\[]", text):
        value, end = _json_at(text, match.start())
        # An index such as `lines[0].account` parses as JSON too: only a body with words counts.
        if value is not None and (isinstance(value, dict) or _messages(value)):
            break
    else:
        return text
    words = "; ".join(dict.fromkeys(m.strip() for m in _messages(value) if m.strip()))
    before, after = text[:match.start()].strip().rstrip(":").strip(), text[end:].strip()
    return " ".join(part for part in (before + (":" if before and words else ""), words, after) if part) or text
