from django_q.models import Schedule


def ensure_schedules(sender, **kwargs):
    """Nightly backup, weekly restore drill; idempotent (post_migrate runs on every migrate)."""
    if sender.name != "expensico_sync.backups":
        return
    Schedule.objects.update_or_create(name="backups.nightly", defaults={
        "func": "expensico_sync.backups.tasks.backup_task", "schedule_type": Schedule.CRON,
        "cron": "15 2 * * *", "repeats": -1})
    Schedule.objects.update_or_create(name="backups.restore_drill", defaults={
        "func": "expensico_sync.backups.tasks.restore_drill_task", "schedule_type": Schedule.CRON,
        "cron": "45 3 * * 0", "repeats": -1})
