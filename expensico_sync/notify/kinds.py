"""The kinds of notification, registered by the package that raises them (this one names none of
the packages above it). A kind says who receives it by default and how."""

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

IMMEDIATE, DIGEST, OFF = "immediate", "digest", "off"
MODES = ((IMMEDIATE, _("Immediately")), (DIGEST, _("In the daily digest")), (OFF, _("Off")))


@dataclass(frozen=True)
class Kind:
    key: str
    label: "StrOrPromise"            # in the reader's language (gettext_lazy)
    roles: frozenset[str]            # membership roles that receive it ("*" = superusers only)
    default_mode: str = IMMEDIATE


_kinds: dict[str, Kind] = {}


def register_kind(key: str, label: "StrOrPromise", *, roles, default_mode: str = IMMEDIATE) -> Kind:
    kind = Kind(key, label, frozenset(roles), default_mode)
    _kinds[key] = kind
    return kind


def kind(key: str) -> Kind:
    try:
        return _kinds[key]
    except KeyError:
        raise LookupError(f"no notification kind {key!r}; registered: {sorted(_kinds)}") from None


def kinds() -> list[Kind]:
    return sorted(_kinds.values(), key=lambda k: k.key)


DIGEST_DAILY = register_kind("digest.daily", _("Daily digest"), roles={"owner", "finance_admin"})
DIGEST_WEEKLY = register_kind("digest.weekly", _("Weekly digest"), roles={"owner"}, default_mode=OFF)
BACKUP_FAILED = register_kind("backup.failed", _("Backup or restore drill failed"), roles={"*"})
