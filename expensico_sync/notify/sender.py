"""Sending the outbox: retried while nothing can have been delivered, never sent twice.

A row is claimed (`sending`) and committed before the SMTP conversation starts. What happens next:
- the server could not be reached or refused the sender/recipients/data with a 4xx: nothing was
  delivered, so the row goes back to `pending` with a back-off (at most MAX_ATTEMPTS);
- a 5xx refusal: `failed` (retrying cannot help);
- anything else once the message may have been handed over (a timeout or a dropped connection
  mid-DATA, a worker killed while `sending`): `unknown`, shown in the admin and never re-sent.
"""

import smtplib
import socket
from datetime import timedelta

import structlog
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.utils import timezone

from .links import unsubscribe_url
from .models import Notification

log = structlog.get_logger(__name__)
MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=10)
NOT_DELIVERED = (ConnectionRefusedError, smtplib.SMTPConnectError, socket.gaierror)


def send_pending(limit: int = 100) -> int:
    expire_stale_claims()
    with transaction.atomic():
        rows = list(Notification.objects.select_for_update(skip_locked=True, of=("self",))
                    .filter(status=Notification.Status.PENDING, mode="immediate", send_after__lte=timezone.now())
                    .select_related("user", "organization").order_by("send_after", "id")[:limit])
        Notification.objects.filter(pk__in=[r.pk for r in rows]).update(
            status=Notification.Status.SENDING, claimed_at=timezone.now())
    if not rows:
        return 0
    sent = 0
    connection = get_connection(fail_silently=False)
    try:
        connection.open()
    except NOT_DELIVERED + (smtplib.SMTPException, OSError) as exc:
        for row in rows:
            _retry(row, exc)
        return 0
    try:
        for row in rows:
            sent += _send_one(connection, row)
    finally:
        try:
            connection.close()
        except Exception:  # noqa: BLE001 - the messages' fates are already recorded
            pass
    return sent


def _send_one(connection, row: Notification) -> int:
    message = EmailMultiAlternatives(row.subject, row.body_text, settings.DEFAULT_FROM_EMAIL, [row.user.email],
                                     connection=connection, headers=_headers(row))
    if row.body_html:
        message.attach_alternative(row.body_html, "text/html")
    try:
        message.send()
    except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
        code = getattr(exc, "smtp_code", None) or _first_code(exc)
        if code and 400 <= code < 500:
            _retry(row, exc)
        else:
            _finish(row, Notification.Status.FAILED, exc)
        return 0
    except Exception as exc:  # noqa: BLE001 - may have been delivered: record, never re-send
        _finish(row, Notification.Status.UNKNOWN, exc)
        return 0
    _finish(row, Notification.Status.SENT)
    return 1


def _headers(row: Notification) -> dict:
    url = unsubscribe_url(row.user, row.organization, row.kind)
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "X-Expensico-Sync-Kind": row.kind}


def _first_code(exc) -> int | None:
    recipients = getattr(exc, "recipients", None) or {}
    for code, _msg in recipients.values():
        return code
    return None


def _retry(row: Notification, exc: Exception) -> None:
    if row.attempts + 1 >= MAX_ATTEMPTS:
        return _finish(row, Notification.Status.FAILED, exc)
    delay = timedelta(seconds=min(3600, 30 * 2 ** (row.attempts + 1)))
    Notification.objects.filter(pk=row.pk).update(
        status=Notification.Status.PENDING, attempts=row.attempts + 1, send_after=timezone.now() + delay,
        last_error=f"{type(exc).__name__}: {exc}"[:2000])


def _finish(row: Notification, status: str, exc: Exception | None = None) -> None:
    Notification.objects.filter(pk=row.pk).update(
        status=status, attempts=row.attempts + 1, sent_at=timezone.now() if status == "sent" else None,
        last_error=f"{type(exc).__name__}: {exc}"[:2000] if exc else "")
    log.info("notify.sent" if status == "sent" else "notify.not_sent", kind=row.kind, status=status,
             notification=row.pk)


def expire_stale_claims() -> int:
    """A worker that died while `sending` may have handed the message over: never re-sent."""
    return Notification.objects.filter(status=Notification.Status.SENDING,
                                       claimed_at__lt=timezone.now() - LEASE).update(
        status=Notification.Status.UNKNOWN, last_error="the worker stopped while sending")
