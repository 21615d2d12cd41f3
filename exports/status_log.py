"""The export record's stored status-change log: one row per change, written by
`services.status_update.record_transition` in the same statement as the change itself (Postgres),
so the history on the record page is what happened, not a reconstruction."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class StatusChange(models.Model):
    """Who (a person's username, an API key's name, or the worker), what (from → to), when and why.
    Append-only: rows are never updated."""

    record = models.ForeignKey("exports.ExportRecord", on_delete=models.CASCADE, related_name="status_changes",
                               verbose_name=_("export record"))
    at = models.DateTimeField(verbose_name=_("at"))
    from_status = models.CharField(max_length=20, verbose_name=_("from status"))
    to_status = models.CharField(max_length=20, verbose_name=_("to status"))
    actor = models.CharField(max_length=150, blank=True, default="", help_text=_("Who moved it; blank: the system"),
                             verbose_name=_("actor"))
    why = models.TextField(blank=True, default="", verbose_name=_("why"))
    # The why's message code and parameters when it is ours (exports/messages.py): shown in the
    # reader's language; {} for a person's own words and rows written before.
    why_message = models.JSONField(default=dict, blank=True, verbose_name=_("why (message code)"))

    class Meta:
        verbose_name = _("status change")
        verbose_name_plural = _("status changes")
        ordering = ["record", "at", "id"]
        indexes = [models.Index(fields=["record", "at"], name="export_status_change_idx")]

    def __str__(self):
        return f"{self.record_id}: {self.from_status} → {self.to_status}"
