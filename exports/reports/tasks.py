from .services import run_due


def reports_due_task() -> int:
    return len(run_due())
