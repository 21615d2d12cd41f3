from django.db import transaction
from django_q.models import Schedule

from expensico_sync.backups.signals import backup_failed

from . import kinds
from .services import notify


def on_backup_failed(sender, run, **kwargs):
    with transaction.atomic():
        notify(kinds.BACKUP_FAILED.key, incident=f"backup:{run.pk}",
               subject=f"{run.get_kind_display()} failed: {run.name or run.target}",
               text=f"{run.get_kind_display()} {run.name or ''} to {run.target} failed.\n\n{run.detail}\n\n"
                    "docs/runbook.md, section 'Drill failed', says what to do.",
               link=f"/admin/backups/backuprun/{run.pk}/change/")


def ensure_schedules(sender, **kwargs):
    for name, func, cron in (("notify.send_pending", "send_pending", None),
                             ("notify.daily_digest", "daily_digest", "0 6 * * *"),
                             ("notify.weekly_digest", "weekly_digest", "0 6 * * 1")):
        defaults = {"func": f"expensico_sync.notify.tasks.{func}", "repeats": -1}
        defaults.update({"schedule_type": Schedule.CRON, "cron": cron} if cron else
                        {"schedule_type": Schedule.MINUTES, "minutes": 1})
        Schedule.objects.update_or_create(name=name, defaults=defaults)


def connect():
    backup_failed.connect(on_backup_failed, dispatch_uid="notify.backup_failed")
