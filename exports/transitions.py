"""The export record's status machine: the one table every service, API call and admin action
goes through. A transition not listed here cannot happen (ExportRecord.save refuses it too)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from .errors import IllegalTransition


class Status(models.TextChoices):
    PENDING = "pending", _("Pending")
    IN_PROGRESS = "in_progress", _("In progress")
    RETRY = "retry", _("Retry scheduled")
    OUTCOME_UNKNOWN = "outcome_unknown", _("Outcome unknown")
    EXPORTED = "exported", _("Exported")
    NEEDS_REVIEW = "needs_review", _("Needs review")
    CANCELLED = "cancelled", _("Cancelled")
    SUPERSEDED = "superseded", _("Superseded")


S = Status

TRANSITIONS: dict[str, frozenset[str]] = {
    # Waiting records can be claimed, parked for review, or made moot by the source.
    S.PENDING: frozenset({S.IN_PROGRESS, S.NEEDS_REVIEW, S.CANCELLED, S.SUPERSEDED}),
    S.RETRY: frozenset({S.IN_PROGRESS, S.NEEDS_REVIEW, S.CANCELLED, S.SUPERSEDED}),
    # A worker holds the record: it ends in an outcome, or goes back to waiting (mode, pilot,
    # rate limit or breaker) without having called out. A lost worker's lease turns it into
    # outcome_unknown, because the call may have reached the vendor.
    S.IN_PROGRESS: frozenset({S.EXPORTED, S.RETRY, S.OUTCOME_UNKNOWN, S.NEEDS_REVIEW, S.PENDING,
                              S.CANCELLED, S.SUPERSEDED}),
    # The vendor may hold the document: never cancelled or superseded blind, only reconciled
    # (by a worker or a vendor callback) or handed to a person.
    S.OUTCOME_UNKNOWN: frozenset({S.IN_PROGRESS, S.EXPORTED, S.NEEDS_REVIEW}),
    # A person decides: retry after a fix, book manually (exported), skip (cancelled).
    S.NEEDS_REVIEW: frozenset({S.PENDING, S.EXPORTED, S.CANCELLED, S.SUPERSEDED}),
    # Booked: undone only by a separate reversal record, never by editing this one. One way back:
    # a vendor that imports asynchronously (Xledger) may report later that the accepted document
    # failed to import, so nothing was booked; only the import-failure poll takes this edge
    # (services.import_failures), and a person's "retried" then sends it again.
    S.EXPORTED: frozenset({S.NEEDS_REVIEW}),
    # A person may re-export a record they cancelled by hand (the service checks the source).
    S.CANCELLED: frozenset({S.PENDING}),
    S.SUPERSEDED: frozenset(),
}

# Statuses a claim may pick up when due.
CLAIMABLE = (S.PENDING, S.RETRY, S.OUTCOME_UNKNOWN)
# Not finished: the vendor may still get (or have got) this document.
OPEN = (S.PENDING, S.RETRY, S.IN_PROGRESS, S.OUTCOME_UNKNOWN, S.NEEDS_REVIEW)
# Nothing was sent, or whatever was sent is settled: safe to cancel/supersede without a reversal.
UNSENT = (S.PENDING, S.RETRY, S.NEEDS_REVIEW)
TERMINAL = (S.EXPORTED, S.CANCELLED, S.SUPERSEDED)   # exported: barring a late import failure


def is_legal(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


def check(current: str, target: str) -> None:
    if not is_legal(current, target):
        raise IllegalTransition(current, target)
