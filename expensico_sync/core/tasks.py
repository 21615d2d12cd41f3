"""django-q2 tasks of the core app: thin, one service each."""

from .dashboard import dashboard_refresh


def dashboard_refresh_task(org_ids: list[int], language: str | None = None) -> int:
    return len(dashboard_refresh(org_ids=org_ids, language=language)["kpis"])
