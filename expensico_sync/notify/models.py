from django.conf import settings
from django.db import models

from expensico_sync.core.models import Organization

from .kinds import MODES


class Notification(models.Model):
    """The outbox: one row per recipient and incident, written in the same transaction as its
    cause; the worker sends it at most once (see sender.py)."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENDING = "sending", "Being sent"
        SENT = "sent", "Sent"
        DIGESTED = "digested", "Put in a digest"
        FAILED = "failed", "Gave up"
        UNKNOWN = "unknown", "May have been sent (not retried)"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, null=True, blank=True,
                                     related_name="notifications")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=64)
    # One notification per recipient, kind and incident: raising the same alert again is a no-op.
    incident = models.CharField(max_length=200)
    mode = models.CharField(max_length=10, choices=MODES)
    subject = models.CharField(max_length=255)
    body_text = models.TextField()
    body_html = models.TextField(blank=True, default="")
    link = models.CharField(max_length=500, blank=True, default="")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    send_after = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
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

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, null=True, blank=True,
                                     related_name="notification_preferences")
    kind = models.CharField(max_length=64)
    mode = models.CharField(max_length=10, choices=MODES)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
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

    key = models.CharField(max_length=200, unique=True)
    active = models.BooleanField(default=False)
    incident = models.PositiveIntegerField(default=0)
    changed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.key}: {'active' if self.active else 'clear'} (#{self.incident})"
