"""Texts the engine writes into review items (`detail`) and export records (`last_error`), kept as a
code and parameters beside the English text, so each viewer reads them in their own language.

`said(code, **params)` is a `Message`: a `str` (the English text, stored as before and sent by the
API) that also carries its code and parameters. `review_item_open` and `record_transition` store
them in `detail_message` / `last_error_message`; `shown(text, stored)` renders them in the active
language at display time. A row written before (no code), or a code no longer known, shows its
stored text. Parameters are data: names, references, dates, and the vendor's own words, which stay
as the vendor wrote them; a parameter may itself be a message (`{"code": …, "params": …}`) or a
list of them, joined with "; "."""

from datetime import date
from typing import Any

from django.utils import dateformat, translation
from django.utils.translation import gettext, gettext_noop

from expensico_sync.core.texts import Said, Texts

from .transitions import Status

# code → English template with named placeholders (extracted by makemessages through gettext_noop).
TEXTS: dict[str, str] = {
    # Holds (exports/services/resolution.py)
    "held_missing_receipt": gettext_noop("Held (missing receipt): %(rules)s"),
    "held_by_rule": gettext_noop("Held by rule: %(rules)s"),
    "mapping_gap": gettext_noop("Missing mapping: %(items)s"),
    "mapping_gap_unknown": gettext_noop("mapping gap"),
    "gap_item": gettext_noop("%(kind)s %(key)s: %(detail)s"),
    "gap_item_bare": gettext_noop("%(kind)s %(key)s"),
    "gap_setting_account": gettext_noop("choose the %(which)s account on the connection"),
    "suggested": gettext_noop("Suggested %(parts)s: accept or correct"),
    "suggested_disagrees": gettext_noop("Suggested %(parts)s: accept or correct; %(disagrees)s"),
    "suggested_account": gettext_noop("account %(account)s (%(label)s)"),
    "suggested_account_from": gettext_noop("account %(account)s (by %(source)s)"),
    "suggested_dimension": gettext_noop("%(key)s %(value)s (%(label)s)"),
    "reversal_no_entry": gettext_noop("the reversed record has no stored entry to mirror"),
    # Closed periods (exports/services/closing.py, worker)
    "period_signed_off": gettext_noop(
        "%(period)s is signed off: a late change to a closed month is held (connection policy: hold for "
        "review)"),
    "vendor_period_no_open": gettext_noop(
        "the vendor's period is closed for %(date)s and no open period was found within a year: "
        "%(vendor)s"),
    "vendor_period_closed_through": gettext_noop(
        "the vendor's period is closed through %(through)s for %(date)s: %(vendor)s (connection policy: "
        "hold for review)"),
    "vendor_period_closed": gettext_noop(
        "the vendor's period is closed for %(date)s: %(vendor)s (connection policy: hold for review)"),
    "vendor_period_closed_undated": gettext_noop(
        "the vendor's period is closed for this date: %(vendor)s (connection policy: hold for review)"),
    "redate_refused": gettext_noop("still refused after re-dating to %(date)s"),
    "redated": gettext_noop("re-dated to %(date)s (period closed; new idempotency key)"),
    # Pre-flight (exports/services/preflight.py)
    "preflight": gettext_noop(
        "Pre-flight: the vendor would refuse this document, nothing was sent. %(findings)s"),
    # Our framing of what the vendor (or the worker) said (exports/services/worker.py)
    "retries_exhausted": gettext_noop("gave up after %(attempts)s attempts: %(vendor)s"),
    "credentials_rejected": gettext_noop("credentials rejected"),
    "internal_error": gettext_noop("internal error: %(error)s"),
    "preview_failed": gettext_noop("preview failed: %(error)s"),
    "unsupported": gettext_noop("not supported by this system (%(system)s): %(why)s"),
    "reversed_before_export": gettext_noop("reversed before it was exported"),
    "nothing_to_reverse": gettext_noop("nothing to reverse: never exported"),
    "expense_cancelled": gettext_noop("expense cancelled before export"),
    "superseded": gettext_noop("superseded by v%(version)s before export"),
    "lease_expired": gettext_noop("worker lease expired"),
    "skipped": gettext_noop("skipped: %(note)s"),
    "vendor_callback": gettext_noop("vendor callback"),
    "import_failed": gettext_noop("the vendor could not import this document"),
    "vendor_rejected": gettext_noop("rejected in the vendor (%(status)s): nothing is booked"),
    "vendor_rejected_after": gettext_noop(
        "The vendor rejected %(reference)s after it was accepted (status %(status)s): nothing is booked. "
        "Fix it in the vendor and retry, or skip it."),
    # Possible duplicates (exports/services/duplicates.py)
    "possible_duplicate": gettext_noop("Possible duplicate of %(matches)s"),
    "duplicate_content": gettext_noop("%(expense)s (same content)"),
    "duplicate_receipt": gettext_noop("%(expense)s (same receipt)"),
    # Changed in the vendor after booking (exports/reconcile/verify.py)
    "mismatch_changed": gettext_noop("changed in the vendor after booking: %(changes)s"),
    "mismatch_cancelled": gettext_noop("cancelled in the vendor after booking: %(changes)s"),
    "mismatch_deleted": gettext_noop("deleted in the vendor after booking: %(changes)s"),
    "mismatch_duplicated": gettext_noop("duplicated in the vendor after booking: %(changes)s"),
    "cancelled_in_vendor": gettext_noop("cancelled in the vendor"),
    "gone_from_vendor": gettext_noop("%(reference)s is no longer in the vendor"),
    "documents_carry": gettext_noop("%(count)s documents carry %(reference)s"),
    # Reconciliation differences (exports/reconcile/run.py, documents.py)
    "changed_reference": gettext_noop("reference %(before)s → %(after)s"),
    "changed_currency": gettext_noop("currency %(before)s → %(after)s"),
    "changed_date": gettext_noop("date %(before)s → %(after)s"),
    "changed_amount": gettext_noop("amount %(before)s → %(after)s"),
    "changed_account": gettext_noop("account %(account)s: %(before)s → %(after)s"),
    "deleted_in_vendor": gettext_noop("deleted in the vendor"),
    "changes": gettext_noop("%(changes)s"),
    "second_document": gettext_noop("a second document carries %(reference)s (ours is %(ours)s)"),
    "booked_by_hand": gettext_noop("booked by hand in the vendor"),
    "not_this_month": gettext_noop("dated in this month at the vendor, but not one of this month's bookings"),
    "with_memo": gettext_noop("%(what)s: %(memo)s"),
    "record_status": gettext_noop("record is %(status)s"),
    "no_record": gettext_noop("no export record for this connection"),
    "unmatched_line": gettext_noop("no funding, unload or reimbursement with bank reference %(reference)s"),
    # Scheduled reports waiting for an evidence pack (exports/reports/services.py)
    "pack_removed": gettext_noop("the evidence pack it was waiting for was removed"),
    "pack_abandoned": gettext_noop("abandoned: the evidence pack's build did not finish in time"),
    "pack_failed": gettext_noop("the evidence pack's build failed"),
    # Why a record waits (its wait_reason, matched back by its English text: exports/stored_words.py)
    "wait_organisation_paused": gettext_noop("organisation paused"),
    "wait_dry_run": gettext_noop("dry run: previewed, not sent"),
    "wait_pilot": gettext_noop("pilot: outside the chosen employees and categories"),
    "wait_connection_paused": gettext_noop("connection paused"),
    "wait_connection_inactive": gettext_noop("connection not activated yet"),
    "wait_breaker_open": gettext_noop("connection breaker open"),
    "wait_rate_limited": gettext_noop("rate limited"),
    "wait_original": gettext_noop("waiting for the original"),
    "wait_original_moving": gettext_noop("original moving"),
    # Why a record's status changed (exports/status_log.py: StatusChange.why_message)
    "review_resolved": gettext_noop("review resolved: %(resolution)s"),
    "review_resolved_more": gettext_noop("review resolved: %(resolution)s; %(more)s"),
    "resolution_retried": gettext_noop("retried"),
    "resolution_fixed_mapping": gettext_noop("fixed the mapping"),
    "resolution_booked_manually": gettext_noop("booked manually"),
    "resolution_skipped": gettext_noop("skipped"),
    "resolution_acknowledged": gettext_noop("acknowledged"),
    "resolution_released": gettext_noop("hold released: approved and exported"),
    "booked_as": gettext_noop("booked as %(reference)s"),
    "retry_now": gettext_noop("retry now"),
    "re_exported": gettext_noop("re-exported"),
    "cancelled_by": gettext_noop("cancelled by %(who)s"),
    "cancelled_by_person": gettext_noop("cancelled by a person"),
    "cancelled_via_api": gettext_noop("cancelled via API by %(who)s"),
    # Attempts: what an attempt row says of itself (error_message, notes; matched back by their text)
    "attempt_reconciled": gettext_noop("reconciled"),
    "attempt_lease_lost": gettext_noop("the worker holding this record stopped answering"),
    "attempt_already_there": gettext_noop("already at the vendor (historical sync)"),
    # The connectors' own words when nothing was sent (connectors/limits.py, breaker.py), as an attempt keeps them
    "client_rate_limit": gettext_noop("client-side rate limit reached"),
    "client_rate_window": gettext_noop("%(limit)s requests in %(seconds)s s reached"),
    "client_in_flight": gettext_noop("%(limit)s requests already in flight"),
    "circuit_open_until": gettext_noop("circuit open for %(connection)s until %(until)s"),
    # The connectors' notes on a reversal whose work the vendor had already done (the vendor folders)
    "attempt_already_reversed": gettext_noop("already reversed"),
    "attempt_already_deleted": gettext_noop("already deleted in %(system)s"),
    # How a booked document and its reversal link (exports/reversal_link.py); `how` is the connector's note
    "reverses": gettext_noop("reverses %(original)s (vendor id %(original_id)s) as %(external_id)s%(how)s"),
    "reversed_by": gettext_noop("reversed by %(reversal)s (vendor id %(external_id)s, %(status)s)%(how)s"),
    # Refusals (exports/errors.py): what an admin action or API call was refused with
    "illegal_transition": gettext_noop("an export record cannot go from %(current)s to %(target)s"),
    "stale_record": gettext_noop("record %(record)s is no longer %(expected)s (now %(actual)s)"),
    "kept_moving": gettext_noop("record %(record)s kept moving"),
    "not_cancellable": gettext_noop("only a pending job can be cancelled; this one is %(status)s"),
    "not_retryable": gettext_noop("a record that is %(status)s cannot be retried"),
    "not_reexportable": gettext_noop("only a cancelled record can be re-exported; this one is %(status)s"),
    "source_changed": gettext_noop("the expense was cancelled or changed since; nothing to re-export"),
    "reversal_not_reexported": gettext_noop("a reversal is re-created from its cause, not re-exported"),
    "already_resolved": gettext_noop("this review item is already resolved"),
    "booked_needs_reference": gettext_noop("booking manually needs the external reference it was booked under"),
    "skip_needs_reason": gettext_noop("skipping needs a reason"),
    "unknown_resolution": gettext_noop("unknown resolution %(resolution)s"),
    "not_a_warning": gettext_noop(
        "only a vendor warning on a booked record can be acknowledged; this record is %(status)s: retry it, fix "
        "the mapping, book it manually or skip it"),
    "not_parked": gettext_noop(
        "this record is already booked (%(status)s) and only carries a vendor warning: acknowledge it; "
        "'%(resolution)s' is for records waiting in review"),
    "not_a_hold": gettext_noop("only an open hold on a parked record can be approved"),
    "hold_forbidden": gettext_noop("your role may not release holds"),
    "same_approver": gettext_noop("you approved this already: a second, different person must approve"),
    "not_a_suggestion": gettext_noop("only an open suggested coding can be accepted or corrected"),
    "dimension_not_proposed": gettext_noop("dimensions: %(keys)s was not proposed for this expense"),
    "account_required": gettext_noop("the suggestion names no account: give one"),
    "flag_not_open": gettext_noop("this flag was already %(status)s"),
    "flag_confirmed": gettext_noop("confirmed (seen, it is real)"),
    "flag_dismissed": gettext_noop("dismissed (false positive)"),
    "flag_reason_required": gettext_noop("reason: say why this is not unusual (it teaches the detector)"),
    "close_period_format": gettext_noop("period must be a month as YYYY-MM, got %(value)s"),
    "close_already_signed": gettext_noop("%(period)s is already signed off"),
    "close_incomplete": gettext_noop("the checklist is not complete: %(items)s"),
    "close_not_signed": gettext_noop("%(period)s is not signed off"),
    "close_reopen_reason": gettext_noop("reopening a month needs a reason"),
    "reconcile_period": gettext_noop("period must be the first day of a month (YYYY-MM)"),
    "reconcile_no_read_back": gettext_noop("%(connection)s cannot read back its vendor's ledger"),
    "reconcile_confirm_cost": gettext_noop(
        "this run costs about %(requests)s vendor requests of a monthly budget of %(budget)s: confirm the cost"),
    "reconcile_note_needed": gettext_noop("an explanation needs a note"),
    # The month-end close: the month's history (exports/close/services.py; its detail lines are in close/checklist.py)
    "close_signed_off": gettext_noop("signed off"),
    "close_reopened": gettext_noop("reopened: %(reason)s"),
    # Spend anomalies (exports/anomalies/detectors.py)
    "unusual_employee": gettext_noop(
        "%(amount)s is %(times)s %(employee)s's usual %(category)s in %(currency)s (median %(median)s over "
        "%(count)s earlier expenses)"),
    "unusual_merchant": gettext_noop(
        "%(amount)s is %(times)s the usual at %(merchant)s in %(currency)s (median %(median)s over %(count)s "
        "earlier expenses)"),
    "unusual_category": gettext_noop(
        "%(amount)s is %(times)s the organisation's usual %(category)s in %(currency)s (median %(median)s over "
        "%(count)s earlier expenses)"),
    "spend_spike": gettext_noop(
        "%(employee)s spent %(total)s in %(month)s, %(times)s their usual month (%(usual)s, median of "
        "%(count)s months); this is the month's largest expense"),
    "weekend_spend": gettext_noop("%(amount)s of %(category)s at %(merchant)s on a %(weekday)s (weekend), %(date)s"),
    "holiday_spend": gettext_noop("%(amount)s of %(category)s at %(merchant)s on a holiday, %(date)s"),
    "round_number": gettext_noop(
        "A round %(amount)s for %(category)s at %(merchant)s; only %(share)s of the %(count)s earlier "
        "%(category)s expenses are round multiples of %(unit)s"),
    "split_claim": gettext_noop(
        "%(count)s claims by %(employee)s at %(merchant)s on %(date)s of %(low)s–%(high)s %(currency)s add up "
        "to %(total)s, over the %(limit)s limit: possibly one purchase split"),
    "receipt_reused": gettext_noop(
        "The same receipt file is attached to %(expense)s (%(employee)s, %(date)s, %(amount)s)"),
}
TEXTS = Texts(TEXTS)  # also finds the codes lower floors registered (expensico_sync/core/texts.py)

# Words that stand for a kind inside a message (a gap item's kind, the account a setting names).
WORDS: dict[str, str] = {
    "category": gettext_noop("category"), "tax": gettext_noop("tax"), "dimension": gettext_noop("dimension"),
    "currency": gettext_noop("currency"), "setting": gettext_noop("setting"),
    "suggestion": gettext_noop("suggestion"), "Employees Balance": gettext_noop("Employees Balance"),
    "Employee Claims": gettext_noop("Employee Claims"), "Funding bank": gettext_noop("Funding bank"),
    "this employee": gettext_noop("this employee"), "no merchant": gettext_noop("no merchant"),
    "(none)": gettext_noop("(none)"),
}
# Dates inside a message, as English wrote them and as the active language writes them (Django's formats).
DATES = {"month": ("%B %Y", "F Y"), "day": ("%d %b %Y", "j F Y"), "weekday": ("%A", "l")}


class Message(Said):
    """The English text, carrying the code and parameters it was made from (written from TEXTS)."""

    @staticmethod
    def render(code: str, params: dict[str, Any], *, translate: bool) -> str:
        return _render(code, params, translate=translate)


def said(code: str, **params: Any) -> Message:
    """A message of ours: `code` names its template in TEXTS; parameters are plain data (str(),
    except messages and lists of them, kept as they are)."""
    if code not in TEXTS:
        raise KeyError(f"unknown message code {code!r}")
    return Message(code, {k: _plain(v) for k, v in params.items()})


def word(value: str) -> dict[str, Any]:
    """A parameter that is one of WORDS: translated where shown, as it is otherwise."""
    return {"word": value}


def kept(text: str, stored: dict[str, Any] | None) -> str:
    """A stored text as a Message again (to store it elsewhere with its code); the text when it has none."""
    if not stored or stored.get("code") not in TEXTS:
        return text
    return Message(stored["code"], stored.get("params") or {})


def word_shown(value: str) -> str:
    """One of WORDS in the active language (anything else as it is)."""
    return _value(word(value), translate=True)


def stored_of(text: Any) -> dict[str, Any]:
    """What to store beside `text`: its code and parameters, or {} for text that is not ours."""
    return text.stored() if isinstance(text, Said) else {}


def shown(text: str, stored: dict[str, Any] | None) -> str:
    """The stored text in the active language when its code is known; the text as stored otherwise."""
    if not stored or stored.get("code") not in TEXTS:
        return text
    try:
        return _render(stored["code"], stored.get("params") or {}, translate=True)
    except (KeyError, TypeError, ValueError):
        return text


def _plain(value: Any) -> Any:
    if isinstance(value, Said):
        return value.stored()
    if isinstance(value, dict) and ({"code", "word", "status"} | DATES.keys()) & value.keys():
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return "" if value is None else str(value)


def _render(code: str, params: dict[str, Any], *, translate: bool) -> str:
    template = TEXTS[code]
    text = gettext(template) if translate else template
    return text % {k: _value(v, translate) for k, v in params.items()} if params else text


def _value(value: Any, translate: bool) -> str:
    if isinstance(value, list):
        return "; ".join(_value(v, translate) for v in value)
    if isinstance(value, dict) and "word" in value:
        known = WORDS.get(value["word"])
        return (gettext(known) if translate else known) if known else str(value["word"])
    if isinstance(value, dict) and "status" in value:     # an export record's status, by its label
        if value["status"] not in Status.values:
            return str(value["status"])
        if translate:
            return str(Status(value["status"]).label).lower()
        with translation.override("en"):
            return str(Status(value["status"]).label).lower()
    if isinstance(value, dict) and DATES.keys() & value.keys():
        kind = next(k for k in DATES if k in value)
        day = date.fromisoformat(value[kind] + ("-01" if kind == "month" else ""))
        return dateformat.format(day, DATES[kind][1]) if translate else day.strftime(DATES[kind][0])
    if isinstance(value, dict) and value.get("code") in TEXTS:
        return _render(value["code"], value.get("params") or {}, translate=translate)
    return str(value)
