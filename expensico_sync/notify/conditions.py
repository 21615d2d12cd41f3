from django.db import transaction

from .models import Condition


def observe(key: str, active: bool) -> str | None:
    """Records what a scan saw. Returns an incident id (`key#n`) when the condition has just turned
    true, so the caller notifies once per incident; None while it stays true or is clear."""
    with transaction.atomic():
        row, _ = Condition.objects.select_for_update().get_or_create(key=key)
        if active == row.active:
            return None
        row.active = active
        if active:
            row.incident += 1
        row.save()
        return f"{key}#{row.incident}" if active else None
