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


def categoriser_train_task(connection_id: int) -> str:
    """On demand (the model page, the API) or from the schedule: one connection's categoriser."""
    from .categoriser import TrainingError
    from .training import categoriser_train

    connection = Connection.objects.filter(pk=connection_id).select_related("organization").first()
    if connection is None:
        return "no such connection"
    try:
        model = categoriser_train(connection=connection, note="")
    except TrainingError as exc:
        return f"not trained: {exc}"
    return f"v{model.version} {model.status} ({model.heldout_accuracy:.1%} on {model.heldout_size} held out)"


def categorisers_train_task() -> int:
    """The weekly schedule: every connection of an organisation that uses the categoriser (it set
    a model auto-apply threshold, or already has a model)."""
    from django.db.models import Q
    from django_q.tasks import async_task

    ids = list(Connection.objects.filter(
        Q(organization__mapping_preference__model_auto_apply__isnull=False)).values_list("pk", flat=True))
    from .models import CategoriserModel

    ids = sorted(set(ids) | set(CategoriserModel.objects.values_list("connection_id", flat=True)))
    for pk in ids:
        async_task("mappings.tasks.categoriser_train_task", pk)
    return len(ids)
