"""django-q2 entry points; the schedules are created on migrate (receivers in apps.ready)."""

from . import services


def backup_task() -> str:
    return services.backup().status


def restore_drill_task() -> str:
    return services.drill().status
