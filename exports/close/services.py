"""A month's close: compute its checklist, sign it off (the month is then locked), reopen it.

Who may do what is the caller's check (capabilities `close.sign_off`, `close.reopen`); these
services refuse what no role may do: signing off with an item not ok, reopening without a reason."""

import re
from dataclasses import asdict
from datetime import date

from django.db import transaction
from django.utils import timezone

from ..errors import Refused
from ..messages import said
from ..models import MonthClose
from ..services.review import _label, _user_or_none
from ..snapshots.models import Snapshot
from ..snapshots.services import register_snapshot, snapshot_read
from . import checklist as _builtin  # noqa: F401  (registers the built-in items)
from .registry import checklist_items


class CloseError(Refused):
    """A close action refused; `code` is stable for API clients, `field` names the input."""

    def __init__(self, detail: str, *, code: str = "invalid", field: str = "non_field_errors"):
        super().__init__(detail, code=code)
        self.field = field
        self.failing: list[str] = []


PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def period_parse(value) -> date:
    """"YYYY-MM" (or a date) → the first day of that month; a clear error naming `period` else."""
    if isinstance(value, date):
        return value.replace(day=1)
    match = PERIOD.match(str(value or "").strip())
    if not match:
        raise CloseError(said("close_period_format", value=repr(value)), field="period")
    return date(int(match[1]), int(match[2]), 1)


def checklist_compute(*, organization, period: date) -> list[dict]:
    """Every registered item for the month, in order, as plain data (stored at sign-off)."""
    rows = []
    for item in checklist_items():
        result = item.compute(organization, period)
        rows.append({"key": item.key, "label": item.label, **asdict(result), "details": list(result.details)})
    return rows


def _checklist_snapshot(organization, period: date) -> list[dict]:
    return checklist_compute(organization=organization, period=period)


register_snapshot("checklist", _checklist_snapshot)


def checklist_live(*, organization, period: date) -> Snapshot:
    """An open month's checklist as last computed in the background (`payload` None until the first
    computation is done; `computed_at` is its "as of"). Pages and the API read this, never compute."""
    return snapshot_read(kind="checklist", organization=organization, period=period)


def month_close_get(*, organization, period: date) -> MonthClose:
    close, _ = MonthClose.objects.get_or_create(organization=organization, period=period)
    return close


@transaction.atomic
def month_close_sign_off(*, organization, period: date, by, comment: str = "") -> MonthClose:
    close = month_close_get(organization=organization, period=period)
    close = MonthClose.objects.select_for_update().get(pk=close.pk)
    if close.locked:
        raise CloseError(said("close_already_signed", period=f"{period:%Y-%m}"), code="not_open")
    rows = checklist_compute(organization=organization, period=period)
    failing = [row["label"] for row in rows if not row["ok"]]
    if failing:
        refused = CloseError(said("close_incomplete", items="; ".join(failing)), code="checklist_incomplete")
        refused.failing = failing    # the items' labels (msgids): the admin names them in the reader's language
        raise refused
    close.status = MonthClose.Status.SIGNED_OFF
    close.checklist = rows
    close.signed_off_by = _user_or_none(by)
    close.signed_off_by_label = _label(by)
    close.signed_off_at = timezone.now()
    close.comment = comment
    close._change_reason = str(said("close_signed_off"))
    close.save()
    return close


@transaction.atomic
def month_close_reopen(*, close: MonthClose, by, reason: str) -> MonthClose:
    close = MonthClose.objects.select_for_update().get(pk=close.pk)
    if not close.locked:
        raise CloseError(said("close_not_signed", period=f"{close.period:%Y-%m}"), code="not_signed_off")
    if not (reason or "").strip():
        raise CloseError(said("close_reopen_reason"), field="reason")
    close.status = MonthClose.Status.OPEN
    close.reopened_by = _user_or_none(by)
    close.reopened_at = timezone.now()
    close.reopen_reason = reason.strip()
    close._change_reason = str(said("close_reopened", reason=reason.strip()))
    close.save()
    return close
