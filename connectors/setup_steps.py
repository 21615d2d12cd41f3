"""What the guided connection setup shows beyond the connection itself, registered by the floors
above (connectors knows neither mappings nor export records): extra steps (map categories) and the
activation preview (how many documents activating would export, how many would be held)."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from dateutil.relativedelta import relativedelta
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Connection

# Sent after a connection is activated (connection=, export_from=): the exports app books what
# the start date lets through.
connection_activated = Signal()


@dataclass(frozen=True)
class SetupStep:
    title: str
    done: bool
    detail: str = ""
    url: str = ""
    url_label: str = ""


@dataclass(frozen=True)
class ActivationPreview:
    export: int          # documents activating would book
    held: int            # of those, how many would wait for a person (mapping gaps, …)
    detail: str = ""     # per kind, in words


_steps: list[Callable[[Connection], SetupStep]] = []
_previews: list[Callable[[Connection, date], ActivationPreview]] = []


def setup_step_register(fn: Callable[[Connection], SetupStep]) -> Callable[[Connection], SetupStep]:
    if fn not in _steps:
        _steps.append(fn)
    return fn


def activation_preview_register(fn: Callable[[Connection, date], ActivationPreview]):
    if fn not in _previews:
        _previews.append(fn)
    return fn


def setup_steps(connection: Connection) -> list[SetupStep]:
    return [fn(connection) for fn in _steps]


def export_from_problem(export_from: date) -> str:
    """Why a start date cannot be used ("" when it can): the admin's activation page and the API agree."""
    today = timezone.localdate()
    if export_from > today + relativedelta(years=1):     # 29 February: 28 February next year
        return _("more than a year ahead; choose a nearer day")
    return ""


def activation_preview(connection: Connection, export_from: date) -> ActivationPreview:
    found = [fn(connection, export_from) for fn in _previews]
    return ActivationPreview(export=sum(p.export for p in found), held=sum(p.held for p in found),
                             detail="; ".join(p.detail for p in found if p.detail))
