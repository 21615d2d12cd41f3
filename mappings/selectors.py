"""Reads of the mappings app: the snapshot the resolver uses, gaps, history and suggestions."""

import hashlib
import json
from collections import defaultdict
from decimal import Decimal
from functools import cache
from typing import Any

from django.apps import apps
from django.db import connection as db_connection
from django.db.models import Case, Exists, IntegerField, Max, OuterRef, Q, QuerySet, Value, When

from .coding import Decision
from .documents import document_from_expense
from .models import (
    MAPPING_MODELS,
    CategoriserModel,
    CategoryMapping,
    CodingCorrection,
    CodingRule,
    CurrencyPolicy,
    DimensionMapping,
    ExchangeRate,
    HoldRule,
    MappingPreference,
    MerchantRule,
    TaxMapping,
)
from .resolve import MappingGap, resolve
from .rules import CodingRuleData
from .settings import ConnectionSettings
from .snapshot import (
    CategoryRule,
    CurrencyRule,
    DimensionRule,
    HoldRuleData,
    MappingSnapshot,
    MerchantRuleData,
    TaxRule,
)
from .training import promoted_categoriser


def mapping_version(connection) -> str:
    """`<time of the last change>~<content hash>`: the time is a point the set can be reverted to."""
    # One statement: each kind's latest change (an index scan per history table), UNION ALL.
    per_kind = [model.history.filter(connection_id=connection.pk).order_by().values("connection_id")
                .annotate(latest=Max("history_date")).values_list("latest", flat=True)
                for model in MAPPING_MODELS]
    changes = [when for when in per_kind[0].union(*per_kind[1:], all=True) if when is not None]
    return max(changes).isoformat() if changes else "empty"


@cache
def _history_sql() -> str:
    return " UNION ALL ".join(
        f'SELECT %s, MAX(history_date), COUNT(*) FROM "{model.history.model._meta.db_table}" WHERE connection_id = %s'
        for model in MAPPING_MODELS)


def _when(value: Any) -> Any:
    """A raw cursor gives SQLite's timestamps as text: one type either way."""
    return str(value) if value is not None else None


def mapping_fingerprint(connection) -> tuple[Any, ...]:
    """Changes whenever anything `mapping_snapshot` reads may have changed, in three statements:
    each mapping kind's latest change *and* number of history rows (a change saved earlier but
    committed later than another does not move the latest time, but it adds a row), the promoted
    categoriser and the organisation's model preferences. A snapshot may be reused while its
    connection's fingerprint stays the same."""
    # Plain SQL: composing this union through the ORM cost more CPU than the snapshot it guards.
    with db_connection.cursor() as cursor:
        cursor.execute(_history_sql(), [v for model in MAPPING_MODELS for v in (model.KIND, connection.pk)])
        history = tuple(sorted((kind, _when(latest), rows) for kind, latest, rows in cursor.fetchall()))
    promoted = CategoriserModel.objects.filter(connection=connection, status=CategoriserModel.Status.PROMOTED) \
        .values_list("pk", "version", "sklearn_version").first()
    preferences = MappingPreference.objects.filter(organization_id=connection.organization_id).values_list(
        "model_auto_apply", "model_disagree_at").first()
    return history, promoted, preferences, connection.organization.base_currency


def mapping_snapshot(connection, *, changed_at: str | None = None) -> MappingSnapshot:
    """Everything `resolve` needs of one connection's mappings, in a handful of queries.
    `changed_at`: the set's mapping_version when the caller has it already."""
    cid = connection.pk
    categories = {(m.category_code, m.funding_source, m.expense_type): CategoryRule(m.account, m.account_name)
                  for m in CategoryMapping.objects.filter(connection_id=cid)}
    taxes = {m.tax_code: TaxRule(m.tax_rate, m.treatment, m.separate_line, m.tax_account)
             for m in TaxMapping.objects.filter(connection_id=cid)}
    policy = CurrencyPolicy.objects.filter(connection_id=cid).first()
    rates = defaultdict(list)
    for r in ExchangeRate.objects.filter(connection_id=cid).order_by("currency", "-effective_from"):
        rates[r.currency].append((r.effective_from, r.rate))
    dimensions = {(m.dimension_key, m.value): DimensionRule(m.remote_kind, m.remote_id, m.remote_name)
                  for m in DimensionMapping.objects.filter(connection_id=cid)}
    merchants = {m.merchant: MerchantRuleData(m.contact, m.category_code)
                 for m in MerchantRule.objects.filter(connection_id=cid)}
    holds = tuple(HoldRuleData(h.name, h.amount_over, h.currency, h.missing_receipt, frozenset(h.categories),
                               frozenset(h.employees), h.funding_source)
                  for h in HoldRule.objects.filter(connection_id=cid, active=True))
    rules = tuple(CodingRuleData.from_model(r) for r in CodingRule.objects.filter(connection_id=cid, active=True))
    model = promoted_categoriser(connection)
    auto_apply, disagree_at = None, None
    if model:
        auto_apply, disagree_at = MappingPreference.objects.filter(
            organization_id=connection.organization_id).values_list(
            "model_auto_apply", "model_disagree_at").first() or (None, None)
    content = MappingSnapshot(
        base_currency=connection.organization.base_currency, categories=categories, taxes=taxes,
        currency=CurrencyRule(policy.rate_source, policy.fx_account) if policy else CurrencyRule(),
        rates={k: tuple(v) for k, v in rates.items()}, dimensions=dimensions, merchants=merchants, holds=holds,
        rules=rules,        predictor=model.predict if model else None, model_version=model.version if model else 0,
        auto_apply=auto_apply, disagree_at=disagree_at)
    digest = hashlib.sha256(json.dumps(repr(content), default=str).encode()).hexdigest()[:10]
    return MappingSnapshot(**{**content.__dict__, "version": f"{changed_at or mapping_version(connection)}~{digest}"})


def coding_decision(connection, source_id: str) -> Decision | None:
    """A reviewer's latest accept/correction of this expense in this connection."""
    row = (CodingCorrection.objects.filter(connection=connection, source_id=source_id)
           .values("account", "account_name", "by_label", "dimensions").first())
    if row is None:
        return None
    return Decision(row["account"], row["account_name"], row["by_label"] or "a reviewer",
                    tuple(sorted((row["dimensions"] or {}).items())))


# --- gaps -----------------------------------------------------------------------------------------

def _open_expenses(connection):
    """Approved expenses of the connection's organisation not yet booked in it: what gaps can block."""
    try:
        expense_model = apps.get_model("source", "Expense")
    except LookupError:
        return []
    qs = expense_model.objects.filter(organization_id=connection.organization_id, status="approved")
    try:  # already booked in this connection: nothing left to block (soft link to the exports app)
        record_model = apps.get_model("exports", "ExportRecord")
    except LookupError:
        pass
    else:
        # NOT EXISTS, an anti-join: `exclude(pk__in=…)` is NOT IN, which PostgreSQL re-scans per
        # expense once the exported ids outgrow work_mem (hours at a million expenses).
        qs = qs.filter(~Exists(record_model.objects.filter(connection=connection, status="exported",
                                                           expense=OuterRef("pk"))))
    # report.raw is the whole delivery (every expense of the report): never load it per expense.
    return (qs.select_related("report", "category", "card", "employee").prefetch_related("receipts")
            .defer("report__raw", "details"))


def gaps_from_documents(documents, snapshot: MappingSnapshot, settings: ConnectionSettings) -> list[dict]:
    """Pure: one row per missing mapping with the expenses it blocks and their amounts per currency."""
    table: dict[tuple[str, str], dict] = {}
    for doc in documents:
        result = resolve(doc, snapshot, settings)
        if not isinstance(result, MappingGap):
            continue
        for item in dict.fromkeys(result.items):  # once per expense, even if listed twice
            row = table.setdefault((item.kind, item.key), {
                "kind": item.kind, "key": item.key, "detail": item.detail, "expenses": 0,
                "amounts": defaultdict(Decimal), "source_ids": []})
            row["expenses"] += 1
            row["amounts"][doc.currency] += abs(doc.amount)
            if len(row["source_ids"]) < 20:
                row["source_ids"].append(doc.source_id)
    rows = sorted(table.values(), key=lambda r: (-r["expenses"], r["kind"], r["key"]))
    for row in rows:
        row["amounts"] = dict(sorted(row["amounts"].items()))
    return rows


def mapping_gaps(connection) -> list[dict]:
    snapshot = mapping_snapshot(connection)
    documents = (document_from_expense(e) for e in _open_expenses(connection))
    return gaps_from_documents(documents, snapshot, ConnectionSettings.from_connection(connection))



CATALOG_SEARCH_LIMIT = 20


def catalog_search(*, items: QuerySet, q: str, limit: int = CATALOG_SEARCH_LIMIT) -> list:
    """The cached vendor catalog searched by code, name or type: an exact code first, then codes
    and names that start with the words, then those that contain them; at most `limit` rows."""
    q = q.strip()
    if not q:
        return list(items.order_by("code", "name")[:limit])
    rank = Case(When(code__iexact=q, then=Value(0)),
                When(Q(code__istartswith=q) | Q(name__istartswith=q), then=Value(1)),
                default=Value(2), output_field=IntegerField())
    found = items.filter(Q(code__icontains=q) | Q(name__icontains=q) | Q(classification__icontains=q)
                         | Q(remote_id__iexact=q))
    return list(found.annotate(_rank=rank).order_by("_rank", "code", "name")[:limit])
