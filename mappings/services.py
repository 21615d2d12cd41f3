"""Writes of the mappings app (ARCHITECTURE §4: `<noun>_<verb>`, keyword-only)."""

from django.db import transaction
from django.utils import timezone

from connectors.base import CatalogKind, connector_for
from connectors.metadata import connection_metadata

from .history import REASON_CLONED, REASON_SUGGESTION_APPLIED, REASON_SUGGESTION_AUTO
from .models import MAPPING_MODELS, CategoryMapping, MappingPreference, RemoteCatalogItem


def mapping_set_clone(*, source, target, replace: bool = False, user=None) -> dict[str, int]:
    """Copies every mapping of connection `source` into `target` (same or another organisation's
    connection the caller may edit). Existing target rows with the same natural key are updated;
    with `replace`, target rows absent from the source are deleted."""
    counts = {"created": 0, "updated": 0, "deleted": 0}
    reason = REASON_CLONED % {"source": source}
    with transaction.atomic():
        for model in MAPPING_MODELS:
            fields = [f.name for f in model._meta.concrete_fields
                      if f.name not in {"id", "organization", "connection", "updated_at"}]
            existing = {obj.natural_key(): obj for obj in model.objects.filter(connection=target)}
            seen = set()
            for row in model.objects.filter(connection=source):
                key = row.natural_key()
                seen.add(key)
                obj = existing.get(key) or model(connection=target)
                counts["updated" if obj.pk else "created"] += 1
                for f in fields:
                    setattr(obj, f, getattr(row, f))
                obj._change_reason, obj._history_user = reason, user
                obj.save()
            if replace:
                for key, obj in existing.items():
                    if key not in seen:
                        obj._change_reason, obj._history_user = reason, user
                        obj.delete()
                        counts["deleted"] += 1
    return counts


def catalog_refresh(*, connection, kinds=(CatalogKind.ACCOUNTS, CatalogKind.TAX_RATES, CatalogKind.DIMENSIONS,
                                          CatalogKind.CONTACTS)) -> dict[str, int]:
    """Fetches the connector's catalogs (outside any transaction) and replaces our cached copy."""
    connector = connector_for(connection)
    fetched = {kind: connector.catalog(kind) for kind in kinds}  # remote calls: before atomic()
    # The pre-flight metadata the mapping screens warn from, refreshed with the catalog.
    connection_metadata(connection=connection, refresh=True)
    now = timezone.now()
    with transaction.atomic():
        for kind, items in fetched.items():
            RemoteCatalogItem.objects.filter(connection=connection, kind=kind).exclude(
                remote_id__in=[i.remote_id for i in items]).delete()
            for item in items:
                RemoteCatalogItem.objects.update_or_create(
                    connection=connection, kind=kind, remote_id=item.remote_id,
                    defaults={"organization": connection.organization, "name": item.name, "code": item.code,
                              "classification": item.classification, "active": item.active,
                              "refreshed_at": now})
    return {str(kind): len(items) for kind, items in fetched.items()}


def category_mapping_apply_suggestion(*, connection, category_code: str, category_name: str, account: str,
                                      account_name: str, user=None, score: float | None = None) -> CategoryMapping:
    """Maps a category to a suggested account. A person applies any suggestion; the automatic path
    (user=None) only applies when the score reaches the organisation's threshold."""
    if user is None:
        threshold = MappingPreference.objects.filter(organization_id=connection.organization_id).values_list(
            "auto_apply_threshold", flat=True).first()
        if threshold is None or score is None or score < threshold:
            raise PermissionError("Below the organisation's auto-apply threshold: a person must confirm.")
    with transaction.atomic():
        mapping, _ = CategoryMapping.objects.get_or_create(
            connection=connection, category_code=category_code, funding_source="", expense_type="",
            defaults={"category_name": category_name, "account": account, "account_name": account_name})
        if mapping.account != account:
            mapping.account, mapping.account_name = account, account_name
        mapping._change_reason = (REASON_SUGGESTION_APPLIED % {"user": user} if user else
                                  REASON_SUGGESTION_AUTO % {"score": f"{score:.0f}"})
        mapping._history_user = user
        mapping.save()
    return mapping


def suggestions_auto_apply(*, connection) -> list[CategoryMapping]:
    """Applies, without a person, the category suggestions whose score passes the threshold."""
    from .selectors import mapping_gaps
    from .suggest import suggest_accounts

    threshold = MappingPreference.objects.filter(organization_id=connection.organization_id).values_list(
        "auto_apply_threshold", flat=True).first()
    if threshold is None:
        return []
    applied = []
    for gap in mapping_gaps(connection):
        if gap["kind"] != "category":
            continue
        best = next(iter(suggest_accounts(connection=connection, text=gap["detail"] or gap["key"],
                                          category_code=gap["key"], limit=1)), None)
        if best and best.score >= threshold:
            applied.append(category_mapping_apply_suggestion(
                connection=connection, category_code=gap["key"], category_name=gap["detail"],
                account=best.remote_id, account_name=best.name, score=best.score))
    return applied
