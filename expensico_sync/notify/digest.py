"""The daily and weekly digests: sections registered by the packages that own the numbers, plus
the alerts a member chose to receive in the digest instead of immediately."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from expensico_sync.core.models import Organization

from . import kinds
from .models import Notification
from .services import notify


@dataclass(frozen=True)
class Section:
    title: str
    rows: list[tuple[str, str]] = field(default_factory=list)   # (label, value)
    link: str = ""                                              # admin path


@dataclass(frozen=True)
class SectionSource:
    key: str
    order: int
    build: Callable[[Organization, datetime], Section | None]


_sources: dict[str, SectionSource] = {}


def register_section(key: str, *, order: int = 100):
    """Decorator: `build(organization, since) -> Section | None` contributes to every digest."""
    def register(fn):
        _sources[key] = SectionSource(key, order, fn)
        return fn
    return register


def sections(organization: Organization, since: datetime) -> list[Section]:
    built = (source.build(organization, since) for source in sorted(_sources.values(), key=lambda s: s.order))
    return [section for section in built if section is not None]


def send_digest(organization: Organization, *, kind_key: str = kinds.DIGEST_DAILY.key,
                now: datetime | None = None) -> list[Notification]:
    now = now or timezone.now()
    days = 7 if kind_key == kinds.DIGEST_WEEKLY.key else 1
    since = now - timedelta(days=days)
    with transaction.atomic():
        held = list(Notification.objects.select_for_update().filter(
            organization=organization, mode=kinds.DIGEST, status=Notification.Status.PENDING))
        made = notify(kind_key, organization=organization, incident=f"{kind_key}:{now.date().isoformat()}",
                      subject=lambda: (_("%(organization)s: your weekly summary") if days == 7
                                       else _("%(organization)s: your daily summary")) % {"organization": organization.name},
                      text="", link="/admin/",
                      # The sections are built once per recipient language, in it.
                      context=lambda: {"template": "emails/digest", "sections": sections(organization, since),
                                       "since": since, "held": list(held)})
        recipients = {row.user_id for row in made}
        Notification.objects.filter(pk__in=[h.pk for h in held if h.user_id in recipients]).update(
            status=Notification.Status.DIGESTED, sent_at=now)
    return made


def send_all(kind_key: str = kinds.DIGEST_DAILY.key) -> int:
    return sum(len(send_digest(org, kind_key=kind_key)) for org in Organization.objects.all())
