"""`make run`: a local SMTP catcher, so a newcomer sees the digest and alerts in the admin."""

import os
import sys

from django.conf import settings

PORT = 8025


def processes(ctx):
    port = PORT + ctx["port_offset"]
    directory = os.environ.setdefault("MAIL_CATCHER_DIR", str(settings.VAR_DIR / "mail"))
    # Set before the web and the worker start (they inherit this environment): mail goes to the catcher.
    os.environ.setdefault("EMAIL_URL", f"smtp://127.0.0.1:{port}")
    os.environ.setdefault("SITE_URL", ctx["base_url"])
    return [("mail", [sys.executable, "manage.py", "mailcatcher", "--port", str(port), "--dir", directory])]


def seed(ctx):
    """The demo's admin receives the daily digest at once (it lands in Monitoring → Caught mail)."""
    from django.contrib.auth import get_user_model

    from expensico_sync.core.models import Membership

    from .digest import send_digest

    admin = get_user_model().objects.filter(username="admin").first()
    if admin is None:
        return
    if not admin.email:
        admin.email = "admin@example.com"
        admin.save(update_fields=["email"])
    Membership.objects.get_or_create(user=admin, organization=ctx["organization"], defaults={"role": "owner"})
    # The worker (which has EMAIL_URL pointing at the catcher) sends it when this commits.
    send_digest(ctx["organization"])
