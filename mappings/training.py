"""Training, promotion, rollback and loading of the learned categoriser (per connection).

The coded history lives in the exports app (a floor above): it registers a provider here with
`history_register`, which yields (expense, account) pairs of what was booked; the expenses'
own dimension values label the dimension heads. Reviewer corrections (CodingCorrection) override
or add labels, the account and each dimension they chose. The held-out set is the latest 20 % by
date; a new model is promoted only if it is at least as accurate as the promoted one *on that
same held-out set*, for the account and for every dimension head both models have.
"""

from collections.abc import Callable, Iterable
from dataclasses import asdict, replace
from functools import lru_cache
from importlib.metadata import version as _installed_version
from typing import TYPE_CHECKING

import structlog
from django.db import transaction
from django.utils import timezone

from expensico_sync.source.models import Expense

from .documents import document_from_expense
from .models import CategoriserModel, CategoryMapping, CodingCorrection, MappingPreference, RemoteCatalogItem

if TYPE_CHECKING:
    from .categoriser import Categoriser

# scikit-learn (with SciPy) is imported only where a model is trained or loaded: the web server and
# the admin import this module, and a loaded two-core box took a minute over SciPy alone.
SKLEARN_VERSION = _installed_version("scikit-learn")
HELDOUT_SHARE = 0.2
logger = structlog.get_logger(__name__)
_providers: list[Callable] = []


def history_register(provider: Callable[..., Iterable[tuple[Expense, str]]]) -> None:
    """`provider(connection)` yields (source Expense, booked account id), oldest first or any order."""
    if provider not in _providers:
        _providers.append(provider)


def _account_names(connection) -> dict[str, str]:
    names = {m.account: m.account_name for m in CategoryMapping.objects.filter(connection=connection)
             if m.account_name}
    names.update(RemoteCatalogItem.objects.filter(connection=connection, kind="accounts")
                 .values_list("remote_id", "name"))
    return names


def training_examples(connection) -> list[tuple]:
    """(document, account) pairs, oldest first: booked history, then corrections on top."""
    labelled: dict[str, tuple] = {}
    for provider in _providers:
        for expense, account in provider(connection):
            labelled[expense.expensico_id] = (expense, account)
    corrections, chosen = {}, {}
    for c in CodingCorrection.objects.filter(connection=connection).order_by("created_at", "id"):
        corrections[c.source_id] = c.account
        chosen[c.source_id] = c.dimensions or {}
    missing = [sid for sid in corrections if sid not in labelled]
    for expense in (Expense.objects.filter(organization_id=connection.organization_id, expensico_id__in=missing)
                    .select_related("report", "category", "employee", "card").prefetch_related("receipts")
                    .order_by("expensico_id", "-version")):
        labelled.setdefault(expense.expensico_id, (expense, corrections[expense.expensico_id]))
    rows = [(_with_dimensions(document_from_expense(e), chosen.get(sid)), corrections.get(sid, account))
            for sid, (e, account) in labelled.items()]
    rows.sort(key=lambda r: (r[0].date, r[0].source_id))
    return rows


def _with_dimensions(doc, chosen: dict[str, str] | None):
    """The document as a reviewer completed it: the dimension values they chose fill blank keys."""
    if not chosen:
        return doc
    return replace(doc, dimensions=tuple(sorted({**chosen, **dict(doc.dimensions)}.items())))


def _threshold(connection) -> float | None:
    return MappingPreference.objects.filter(organization_id=connection.organization_id).values_list(
        "model_auto_apply", flat=True).first()


def promoted_row(connection) -> CategoriserModel | None:
    return CategoriserModel.objects.filter(connection=connection, status=CategoriserModel.Status.PROMOTED).defer(
        "blob").first()


@lru_cache(maxsize=32)
def _load(pk: int, version: int) -> "Categoriser":
    from .categoriser import Categoriser

    return Categoriser.loads(CategoriserModel.objects.values_list("blob", flat=True).get(pk=pk), version)


def promoted_categoriser(connection) -> "Categoriser | None":
    row = promoted_row(connection)
    if row is None or row.sklearn_version != SKLEARN_VERSION:
        return None
    try:
        return _load(row.pk, row.version)
    except Exception:  # a model that cannot be read codes nothing: mappings and reviewers decide
        logger.exception("categoriser_unreadable", connection=connection.pk, version=row.version)
        return None


def categoriser_train(*, connection, note: str = "") -> CategoriserModel:
    """Trains a new version; promotes it when at least as accurate on the same held-out data, for
    the account and for each dimension head the model in use also has."""
    from .categoriser import TrainingError, evaluate, evaluate_dimensions, fit

    rows = training_examples(connection)
    cut = max(1, int(len(rows) * (1 - HELDOUT_SHARE)))
    train, heldout = rows[:cut], rows[cut:]
    if not heldout:
        raise TrainingError(f"{len(rows)} coded expenses: too few to hold any out for testing")
    current = promoted_row(connection)
    version = (CategoriserModel.objects.filter(connection=connection).order_by("-version")
               .values_list("version", flat=True).first() or 0) + 1
    model = fit([d for d, _ in train], [a for _, a in train], _account_names(connection), version)
    docs, labels = [d for d, _ in heldout], [a for _, a in heldout]
    threshold = _threshold(connection)
    scored = evaluate(model, docs, labels, threshold)
    heads = evaluate_dimensions(model, docs, threshold)
    incumbent, worse = None, []
    if current is not None and current.sklearn_version == SKLEARN_VERSION:
        old = _load(current.pk, current.version)
        incumbent = evaluate(old, docs, labels, threshold).accuracy
        old_heads = evaluate_dimensions(old, docs, threshold)
        worse = [f"{key} {heads[key].accuracy:.1%} < {old_heads[key].accuracy:.1%}" for key in sorted(old_heads)
                 if key in heads and heads[key].accuracy < old_heads[key].accuracy]
    promote = incumbent is None or (scored.accuracy >= incumbent and not worse)
    S = CategoriserModel.Status
    auto = "first model"
    if incumbent is not None:
        auto = f"in use v{current.version} scored {incumbent:.1%} on the same held-out set"
        if worse:
            auto += "; less accurate on " + ", ".join(worse)
    with transaction.atomic():
        if promote and current is not None:
            CategoriserModel.objects.filter(pk=current.pk).update(status=S.RETIRED)
        return CategoriserModel.objects.create(
            connection=connection, version=version, status=S.PROMOTED if promote else S.REJECTED,
            trained_at=timezone.now(), training_size=len(train), heldout_size=len(heldout),
            heldout_accuracy=scored.accuracy, heldout_ids=[d.source_id for d in docs], coverage=scored.coverage,
            precision_at_threshold=scored.precision, sklearn_version=SKLEARN_VERSION, blob=model.dumps(),
            heads={key: asdict(e) for key, e in heads.items()}, note=(note or auto)[:300])


@transaction.atomic
def categoriser_rollback(*, connection, version: int) -> CategoriserModel:
    """Puts an earlier version back in use (the current one is retired)."""
    target = CategoriserModel.objects.select_for_update().filter(connection=connection, version=version).first()
    if target is None:
        raise LookupError(f"no model v{version} for this connection")
    CategoriserModel.objects.filter(connection=connection, status=CategoriserModel.Status.PROMOTED).update(
        status=CategoriserModel.Status.RETIRED)
    target.status = CategoriserModel.Status.PROMOTED
    target.save(update_fields=["status"])
    return target
