"""django-q2 tasks of the mappings app: thin, one service each."""

from connectors.models import Connection

from .services import suggestions_auto_apply


def suggestions_auto_apply_task(connection_id: int) -> int:
    connection = Connection.objects.filter(pk=connection_id).select_related("organization").first()
    return len(suggestions_auto_apply(connection=connection)) if connection else 0
