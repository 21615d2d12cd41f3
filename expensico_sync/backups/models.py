from django.db import models
from django.utils.translation import gettext_lazy as _


class BackupRun(models.Model):
    """One backup, restore or restore drill: what ran, where to, and whether it held."""

    class Kind(models.TextChoices):
        BACKUP = "backup", _("Backup")
        RESTORE = "restore", _("Restore")
        DRILL = "drill", _("Restore drill")

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        OK = "ok", _("Succeeded")
        FAILED = "failed", _("Failed")

    kind = models.CharField(max_length=8, choices=Kind.choices, verbose_name=_("kind"))
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.RUNNING, verbose_name=_("status"))
    name = models.CharField(max_length=200, blank=True, default="", help_text=_("The backup file's name."), verbose_name=_("name"))
    target = models.CharField(max_length=500, blank=True, default="", verbose_name=_("target"))
    size = models.BigIntegerField(null=True, blank=True, help_text=_("Plaintext bytes."), verbose_name=_("size"))
    sha256 = models.CharField(max_length=64, blank=True, default="", help_text=_("SHA-256 of the plaintext dump."), verbose_name=_("SHA-256"))
    row_counts = models.JSONField(default=dict, blank=True, verbose_name=_("row counts"))
    detail = models.TextField(blank=True, default="", verbose_name=_("detail"))
    started_at = models.DateTimeField(auto_now_add=True, verbose_name=_("started at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))

    class Meta:
        verbose_name = _("backup run")
        verbose_name_plural = _("backup runs")
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["kind", "-started_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.name or self.pk} · {self.get_status_display()}"
