from django.db import transaction
from django.utils.translation import gettext as _
from django_q.models import Schedule

from expensico_sync.backups.signals import backup_failed

from . import kinds
from .services import notify


def on_backup_failed(sender, run, **kwargs):
    with transaction.atomic():
        notify(kinds.BACKUP_FAILED.key, incident=f"backup:{run.pk}",
               subject=lambda: _("%(kind)s failed: %(name)s") % {"kind": run.get_kind_display(),
                                                                  "name": run.name or run.target},
               text=lambda: _("%(kind)s %(name)s to %(target)s failed.") % {
                   "kind": run.get_kind_display(), "name": run.name or "", "target": run.target}
                   + f"\n\n{run.detail}\n\n" + _("docs/runbook.md, section 'Drill failed', says what to do."),
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
