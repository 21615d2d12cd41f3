from .services import reviews_due


def reviews_due_task() -> int:
    return len(reviews_due())
