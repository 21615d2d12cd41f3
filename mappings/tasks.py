"""django-q2 tasks of the mappings app: thin, one service each."""

from connectors.models import Connection

from .dashboard import gaps_refresh
from .services import suggestions_auto_apply


def suggestions_auto_apply_task(connection_id: int) -> int:
    connection = Connection.objects.filter(pk=connection_id).select_related("organization").first()
    return len(suggestions_auto_apply(connection=connection)) if connection else 0


def gaps_refresh_task(connection_id: int) -> int:
    connection = Connection.objects.filter(pk=connection_id).select_related("organization").first()
    return len(gaps_refresh(connection)) if connection else 0
