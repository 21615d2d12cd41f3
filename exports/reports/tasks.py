from .services import evidence_settle_waiting, run_due


def reports_due_task() -> int:
    return len(run_due())


def reports_settle_task() -> int:
    """Every 15 minutes: evidence reports whose build ended (or was abandoned) without a signal."""
    return evidence_settle_waiting()
