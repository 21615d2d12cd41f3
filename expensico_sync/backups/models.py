from django.db import models


class BackupRun(models.Model):
    """One backup, restore or restore drill: what ran, where to, and whether it held."""

    class Kind(models.TextChoices):
        BACKUP = "backup", "Backup"
        RESTORE = "restore", "Restore"
        DRILL = "drill", "Restore drill"

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        OK = "ok", "Succeeded"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.RUNNING)
    name = models.CharField(max_length=200, blank=True, default="", help_text="The backup file's name.")
    target = models.CharField(max_length=500, blank=True, default="")
    size = models.BigIntegerField(null=True, blank=True, help_text="Plaintext bytes.")
    sha256 = models.CharField(max_length=64, blank=True, default="", help_text="SHA-256 of the plaintext dump.")
    row_counts = models.JSONField(default=dict, blank=True)
    detail = models.TextField(blank=True, default="")
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["kind", "-started_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.name or self.pk} · {self.get_status_display()}"
