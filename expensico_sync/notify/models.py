from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from expensico_sync.core.models import Organization

from .kinds import MODES


class Notification(models.Model):
    """The outbox: one row per recipient and incident, written in the same transaction as its
    cause; the worker sends it at most once (see sender.py)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENDING = "sending", _("Being sent")
        SENT = "sent", _("Sent")
        DIGESTED = "digested", _("Put in a digest")
        FAILED = "failed", _("Gave up")
        UNKNOWN = "unknown", _("May have been sent (not retried)")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, null=True, blank=True,
                                     related_name="notifications", verbose_name=_("organisation"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("user"))
    kind = models.CharField(max_length=64, verbose_name=_("kind"))
    # One notification per recipient, kind and incident: raising the same alert again is a no-op.
    incident = models.CharField(max_length=200, verbose_name=_("incident"))
    mode = models.CharField(max_length=10, choices=MODES, verbose_name=_("mode"))
    subject = models.CharField(max_length=255, verbose_name=_("subject"))
    body_text = models.TextField(verbose_name=_("body text"))
    body_html = models.TextField(blank=True, default="", verbose_name=_("body (HTML)"))
    link = models.CharField(max_length=500, blank=True, default="", verbose_name=_("link"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, verbose_name=_("status"))
    attempts = models.PositiveSmallIntegerField(default=0, verbose_name=_("attempts"))
    last_error = models.TextField(blank=True, default="", verbose_name=_("last error"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    send_after = models.DateTimeField(auto_now_add=True, verbose_name=_("send after"))
    claimed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("claimed at"))
    sent_at = models.DateTimeField(null=True, blank=True, verbose_name=_("sent at"))

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "kind", "incident"], name="notification_once")]
        indexes = [models.Index(fields=["status", "send_after"]),
                   models.Index(fields=["user", "mode", "status"]),
                   # The outbox page's own order: its newest rows without sorting a year of them.
                   models.Index(fields=["created_at", "id"], name="notification_created_idx")]

    def __str__(self) -> str:
        return f"{self.kind} → {self.user} · {self.subject}"


class Preference(models.Model):
    """How one member wants one kind of notification for one organisation (absent = the kind's default)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences", verbose_name=_("user"))
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, null=True, blank=True,
                                     related_name="notification_preferences", verbose_name=_("organisation"))
    kind = models.CharField(max_length=64, verbose_name=_("kind"))
    mode = models.CharField(max_length=10, choices=MODES, verbose_name=_("mode"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("preference")
        verbose_name_plural = _("preferences")
        # Two partial constraints rather than one with nulls_distinct=False: SQLite (the development
        # database) ignores nulls_distinct, so the organisation-wide row would go unguarded there.
        constraints = [models.UniqueConstraint(fields=["user", "organization", "kind"], name="preference_unique",
                                               condition=models.Q(organization__isnull=False)),
                       models.UniqueConstraint(fields=["user", "kind"], name="preference_unique_no_org",
                                               condition=models.Q(organization__isnull=True))]

    def __str__(self) -> str:
        return f"{self.user} · {self.kind}: {self.mode}"


class Condition(models.Model):
    """A watched condition (a breaker open, credentials rejected, a backlog stalled): an alert goes
    out when it turns true, once per incident, however often the scan sees it."""

    key = models.CharField(max_length=200, unique=True, verbose_name=_("key"))
    active = models.BooleanField(default=False, verbose_name=_("active"))
    incident = models.PositiveIntegerField(default=0, verbose_name=_("incident"))
    changed_at = models.DateTimeField(auto_now=True, verbose_name=_("changed at"))

    class Meta:
        verbose_name = _("condition")
        verbose_name_plural = _("conditions")

    def __str__(self) -> str:
        return f"{self.key}: {'active' if self.active else 'clear'} (#{self.incident})"


class RecipientLanguage(models.Model):
    """The language a member reads their notifications in: the one they last chose in the admin's
    language switcher or on their notification preferences (absent: the site's LANGUAGE_CODE)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_language",
                                verbose_name=_("user"))
    language = models.CharField(max_length=10, verbose_name=_("language"))  # a code of settings.LANGUAGES
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("notification language")
        verbose_name_plural = _("notification languages")

    def __str__(self) -> str:
        return f"{self.user} · {self.language}"
