from django_q.models import Schedule


def ensure_schedule(sender, **kwargs):
    Schedule.objects.update_or_create(name="retention.apply", defaults={
        "func": "expensico_sync.retention.tasks.retention_apply_task", "schedule_type": Schedule.CRON,
        "cron": "30 3 * * *", "repeats": -1})
