from django_q.models import Schedule


def ensure_schedule(sender, **kwargs):
    Schedule.objects.update_or_create(name="access_reviews.due", defaults={
        "func": "expensico_sync.access_reviews.tasks.reviews_due_task", "schedule_type": Schedule.CRON,
        "cron": "0 7 * * *", "repeats": -1})
