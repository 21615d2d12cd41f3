"""`notify()`: record a notification for everyone who should get it, in the caller's transaction,
each in the recipient's language (the subject, text and context may be callables: they are called
once per language, with that language active)."""

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import translation

from . import kinds
from .links import absolute, unsubscribe_url
from .models import Notification, Preference, RecipientLanguage


def recipients(kind: kinds.Kind, organization) -> list:
    User = get_user_model()
    if "*" in kind.roles or organization is None:
        return list(User.objects.filter(is_active=True, is_superuser=True).exclude(email=""))
    return list(User.objects.filter(
        is_active=True, memberships__organization=organization, memberships__role__in=kind.roles,
    ).exclude(email="").distinct())


def mode_for(user, organization, kind: kinds.Kind) -> str:
    pref = Preference.objects.filter(user=user, organization=organization, kind=kind.key).first()
    return pref.mode if pref else kind.default_mode


def language_of(user) -> str:
    """The language `user` reads notifications in (their last choice; else the site's)."""
    codes = dict(settings.LANGUAGES)
    chosen = RecipientLanguage.objects.filter(user=user).values_list("language", flat=True).first()
    return chosen if chosen in codes else settings.LANGUAGE_CODE


def language_remember(user, language: str) -> None:
    if language not in dict(settings.LANGUAGES):
        raise ValueError(f"language: {language!r} is not one of {', '.join(dict(settings.LANGUAGES))}")
    RecipientLanguage.objects.update_or_create(user=user, defaults={"language": language})


Words = str | Callable[[], str]


def _in(language: str, value: Any) -> Any:
    """`value` in `language`: a callable is called, a lazy string made a string, with it active."""
    with translation.override(language):
        value = value() if callable(value) else value
        return value if value is None or isinstance(value, dict) else str(value)


def notify(kind_key: str, *, organization=None, incident: str, subject: Words, text: Words,
           link: str = "", context: dict | Callable[[], dict] | None = None) -> list[Notification]:
    """Records one notification per recipient; an incident already notified is not recorded again.
    Call it inside the transaction that records the cause: both commit or neither does. Callables
    (and lazy strings) are evaluated once per recipient language, with that language active."""
    kind = kinds.kind(kind_key)
    made = []
    words: dict[str, tuple[str, str, dict]] = {}
    for user in recipients(kind, organization):
        mode = mode_for(user, organization, kind)
        if mode == kinds.OFF:
            continue
        language = language_of(user)
        if language not in words:
            words[language] = (_in(language, subject), _in(language, text), _in(language, context) or {})
        subject_in, text_in, context_in = words[language]
        row = Notification(organization=organization, user=user, kind=kind.key, incident=incident[:200],
                           mode=mode, subject=subject_in[:255], link=link,
                           status=Notification.Status.PENDING)
        with translation.override(language):
            row.body_text, row.body_html = render(row, text_in, {**context_in, "language": language})
        try:
            with transaction.atomic():
                row.save()
        except IntegrityError:
            continue                                  # this incident was already notified
        made.append(row)
    if any(row.mode == kinds.IMMEDIATE for row in made):
        transaction.on_commit(_ring)
    return made


def render(row: Notification, text: str, context: dict) -> tuple[str, str]:
    ctx = {"subject": row.subject, "text": text, "site_url": settings.SITE_URL.rstrip("/"), "link": absolute(row.link) if row.link else "",
           "organization": row.organization, "unsubscribe": unsubscribe_url(row.user, row.organization, row.kind),
           "kind": kinds.kind(row.kind), **context}
    template = context.get("template", "emails/notification")
    return render_to_string(f"{template}.txt", ctx), render_to_string(f"{template}.html", ctx)


def _ring() -> None:
    from django_q.tasks import async_task

    async_task("expensico_sync.notify.tasks.send_pending", task_name="notify.send_pending")


def set_mode(user, organization, kind_key: str, mode: str) -> Preference:
    kinds.kind(kind_key)
    pref, _ = Preference.objects.update_or_create(user=user, organization=organization, kind=kind_key,
                                                  defaults={"mode": mode})
    return pref


