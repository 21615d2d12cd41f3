"""Anomaly flags on spend, each detector's switch and threshold per organisation, and the
dismissals that teach the detectors what is normal here."""

from django.conf import settings
from django.db import models

from expensico_sync.core.models import Organization


class AnomalySetting(models.Model):
    """One detector's switch, threshold and options for one organisation (absent: the defaults)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="anomaly_settings")
    detector = models.CharField(max_length=32)
    enabled = models.BooleanField(default=True)
    threshold = models.FloatField(null=True, blank=True, help_text="Blank: the detector's default")
    options = models.JSONField(default=dict, blank=True,
                               help_text='e.g. weekend_spend: {"weekend_days": [4, 5], "holidays": ["2026-12-02"]}')
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["organization", "detector"]
        constraints = [models.UniqueConstraint(fields=["organization", "detector"], name="anomaly_setting_unique")]

    def __str__(self):
        return f"{self.detector} ({'on' if self.enabled else 'off'})"


class AnomalyFlag(models.Model):
    """One detector's finding on one expense, explained; its review item sits in the queue."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        CONFIRMED = "confirmed", "Confirmed (seen, it is real)"
        DISMISSED = "dismissed", "Dismissed (false positive)"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    expense = models.ForeignKey("source.Expense", on_delete=models.CASCADE, related_name="anomaly_flags")
    record = models.ForeignKey("exports.ExportRecord", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="anomaly_flags")
    review_item = models.ForeignKey("exports.ReviewItem", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="anomaly_flags",
                                    help_text="Blank while the record has another open review item")
    detector = models.CharField(max_length=32, db_index=True)
    pattern = models.CharField(max_length=300, help_text="What a dismissal remembers")
    score = models.FloatField()
    explanation = models.TextField()
    context = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    decided_by_label = models.CharField(max_length=150, blank=True, default="")
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True, default="", help_text="Why it was dismissed or confirmed")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["expense", "detector"], name="anomaly_flag_once")]

    def __str__(self):
        return f"{self.detector}: {self.explanation[:80]}"


class AnomalyDismissal(models.Model):
    """A pattern a person said is normal: the same detector does not flag it again unless it is
    well beyond (1.5×) the score that was dismissed."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    detector = models.CharField(max_length=32)
    pattern = models.CharField(max_length=300)
    score = models.FloatField(help_text="The dismissed flag's score")
    reason = models.TextField()
    flag = models.ForeignKey(AnomalyFlag, null=True, on_delete=models.SET_NULL, related_name="dismissals")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                           related_name="+")
    by_label = models.CharField(max_length=150, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["organization", "detector", "pattern"], name="anomaly_dismissal_idx")]

    def __str__(self):
        return f"{self.detector} {self.pattern}: {self.reason[:60]}"
