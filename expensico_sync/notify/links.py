"""Absolute links in emails, and the signed one-click unsubscribe token."""

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "notify.unsubscribe"


def absolute(path: str) -> str:
    return path if path.startswith("http") else f"{settings.SITE_URL.rstrip('/')}{path}"


def unsubscribe_token(user, organization, kind: str) -> str:
    return signing.dumps({"u": user.pk, "o": organization.pk if organization else None, "k": kind}, salt=SALT)


def unsubscribe_url(user, organization, kind: str) -> str:
    return absolute(reverse("notify-unsubscribe", args=[unsubscribe_token(user, organization, kind)]))


def read_token(token: str) -> dict:
    return signing.loads(token, salt=SALT)       # no max_age: an old email's link keeps working
