from django_q.models import Schedule

RATE_WINDOWS_SWEEP = "connectors.rate_windows_sweep"


def ensure_schedules(sender, **kwargs):
    """The rate-limit tables' sweep, every ten minutes (connectors.limits.rate_windows_sweep)."""
    Schedule.objects.update_or_create(name=RATE_WINDOWS_SWEEP, defaults={
        "func": "connectors.tasks.rate_windows_sweep_task", "schedule_type": Schedule.MINUTES, "minutes": 10,
        "repeats": -1})
