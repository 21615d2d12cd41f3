"""django-q2 tasks (thin: one service call each)."""

from .limits import rate_windows_sweep
from .services import call_log_prune


def call_log_prune_task() -> int:
    return call_log_prune()


def rate_windows_sweep_task() -> int:
    return rate_windows_sweep()


def setup_job_task(connection_id: int, kind: str, choices: dict) -> str:
    from .setup_jobs import setup_job_run

    return setup_job_run(connection_id=connection_id, kind=kind, choices=choices)["state"]
