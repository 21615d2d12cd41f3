"""Anomaly flags on spend, each detector's switch and threshold per organisation, and the
dismissals that teach the detectors what is normal here."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from expensico_sync.core.models import Organization

from ..messages import shown


class AnomalySetting(models.Model):
    """One detector's switch, threshold and options for one organisation (absent: the defaults)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="anomaly_settings", verbose_name=_("organisation"))
    detector = models.CharField(max_length=32, verbose_name=_("detector"))
    enabled = models.BooleanField(default=True, verbose_name=_("enabled"))
    threshold = models.FloatField(null=True, blank=True, help_text=_("Blank: the detector's default"), verbose_name=_("threshold"))
    options = models.JSONField(default=dict, blank=True,
                               help_text=_('e.g. weekend_spend: {"weekend_days": [4, 5], "holidays": ["2026-12-02"]}'), verbose_name=_("options"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("anomaly setting")
        verbose_name_plural = _("anomaly settings")
        ordering = ["organization", "detector"]
        constraints = [models.UniqueConstraint(fields=["organization", "detector"], name="anomaly_setting_unique")]

    def __str__(self):
        return f"{self.detector} ({'on' if self.enabled else 'off'})"


class AnomalyFlag(models.Model):
    """One detector's finding on one expense, explained; its review item sits in the queue."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CONFIRMED = "confirmed", _("Confirmed (seen, it is real)")
        DISMISSED = "dismissed", _("Dismissed (false positive)")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("organisation"))
    expense = models.ForeignKey("source.Expense", on_delete=models.CASCADE, related_name="anomaly_flags", verbose_name=_("expense"))
    record = models.ForeignKey("exports.ExportRecord", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="anomaly_flags", verbose_name=_("record"))
    review_item = models.ForeignKey("exports.ReviewItem", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="anomaly_flags",
                                    help_text=_("Blank while the record has another open review item"), verbose_name=_("review item"))
    detector = models.CharField(max_length=32, db_index=True, verbose_name=_("detector"))
    pattern = models.CharField(max_length=300, help_text=_("What a dismissal remembers"), verbose_name=_("pattern"))
    score = models.FloatField(verbose_name=_("score"))
    explanation = models.TextField(verbose_name=_("explanation"))
    explanation_message = models.JSONField(default=dict, blank=True, verbose_name=_("explanation (message code)"))
    context = models.JSONField(default=dict, blank=True, verbose_name=_("context"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True, verbose_name=_("status"))
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("decided by"))
    decided_by_label = models.CharField(max_length=150, blank=True, default="", verbose_name=_("decided by (name shown)"))
    decided_at = models.DateTimeField(null=True, blank=True, verbose_name=_("decided at"))
    reason = models.TextField(blank=True, default="", help_text=_("Why it was dismissed or confirmed"), verbose_name=_("reason"))
    created_at = models.DateTimeField(auto_now_add=True, db_index=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("anomaly flag")
        verbose_name_plural = _("anomaly flags")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["expense", "detector"], name="anomaly_flag_once")]

    def __str__(self):
        # The page's title: the explanation in words (the detector's label is a field; its key read as a word).
        return shown(self.explanation, self.explanation_message)[:80]


class AnomalyDismissal(models.Model):
    """A pattern a person said is normal: the same detector does not flag it again unless it is
    well beyond (1.5×) the score that was dismissed."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("organisation"))
    detector = models.CharField(max_length=32, verbose_name=_("detector"))
    pattern = models.CharField(max_length=300, verbose_name=_("pattern"))
    score = models.FloatField(help_text=_("The dismissed flag's score"), verbose_name=_("score"))
    reason = models.TextField(verbose_name=_("reason"))
    flag = models.ForeignKey(AnomalyFlag, null=True, on_delete=models.SET_NULL, related_name="dismissals", verbose_name=_("flag"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                           related_name="+", verbose_name=_("by"))
    by_label = models.CharField(max_length=150, blank=True, default="", verbose_name=_("by (name shown)"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("anomaly dismissal")
        verbose_name_plural = _("anomaly dismissals")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["organization", "detector", "pattern"], name="anomaly_dismissal_idx")]

    def __str__(self):
        return f"{self.detector} {self.pattern}: {self.reason[:60]}"
