"""django-q2 tasks (thin: one service call each)."""

from .services import call_log_prune


def call_log_prune_task() -> int:
    return call_log_prune()
