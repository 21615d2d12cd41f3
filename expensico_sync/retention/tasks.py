from .services import apply_all


def retention_apply_task() -> int:
    return sum(step.applied for step in apply_all())
