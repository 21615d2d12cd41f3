"""Coding decisions that touch export records: the booked history the categoriser learns from,
reviewers answering a model's suggestion, and testing or applying a coding rule.

Only records not yet exported are ever re-coded; booked ones are shown, never changed."""

import dataclasses
import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, QuerySet
from django.db.models.fields.json import KT
from django.utils.translation import gettext as _
from django_q.tasks import async_task

from connectors.entry import AccountingEntry, LineRole
from connectors.models import Connection
from expensico_sync.source.models import Expense
from mappings import documents
from mappings.documents import ExpenseDocument
from mappings.history import REASON_RULE_APPLIED
from mappings.models import CodingCorrection, CodingRule
from mappings.resolve import holds_for, resolve, skipped_by
from mappings.rules import CodingRuleData
from mappings.selectors import mapping_snapshot
from mappings.settings import ConnectionSettings
from mappings.snapshot import MappingSnapshot
from mappings.suggest import usage_provider_register
from mappings.training import history_register

from ..entries import entry_to_json
from ..messages import said
from ..models import ExportRecord, Kind, ReviewItem
from ..transitions import UNSENT, Status
from .review import By, ReviewError, _label, _user_or_none, review_item_resolve

PENDING_SAMPLE = 500  # pending records a rule test lists
PENDING_EXAMINED = 500  # the newest pending candidates a rule test decides in the request (applying decides all)
PAST_SAMPLE = 100     # booked ones: the newest only, so the test stays fast at millions of records
APPLY_BATCH = 500     # pending records read, compared and re-coded per batch (one transaction each)
APPLY_INLINE_MAX = 2000          # more candidates than this: applying runs as a django-q2 task
APPLY_TASK_TIMEOUT = 60 * 60
log = logging.getLogger(__name__)


def booked_history(connection: Connection) -> Iterator[tuple[Expense, str]]:
    """(expense, account) of every expense this connection booked: the categoriser's labels."""
    records = (ExportRecord.objects.filter(connection=connection, kind=Kind.EXPENSE, status=Status.EXPORTED)
               .exclude(entry_preview=None)
               .select_related("expense__report", "expense__category", "expense__employee", "expense__card")
               .prefetch_related("expense__receipts").defer("expense__report__raw").order_by("id"))
    for record in records.iterator(chunk_size=2000):
        account = next((line["account"] for line in (record.entry_preview or {}).get("lines", ())
                        if line.get("role") == LineRole.EXPENSE), None)
        if account and record.expense is not None:
            yield record.expense, account


history_register(booked_history)


@usage_provider_register
def booked_accounts_by_category(connection: Connection) -> dict[str, dict[str, int]]:
    """{category code: {account: exported expenses}} for this connection, in one grouped query: the
    expense line is always the entry's first (mappings.resolve), so its account is read in SQL."""
    rows = (ExportRecord.objects.filter(connection=connection, kind=Kind.EXPENSE, status=Status.EXPORTED)
            .exclude(entry_preview=None).order_by()
            .values("expense__category__code", account=KT("entry_preview__lines__0__account"))
            .annotate(n=Count("id")))
    found: dict[str, dict[str, int]] = {}
    for row in rows:
        if row["account"] and row["expense__category__code"]:
            found.setdefault(row["expense__category__code"], {})[row["account"]] = row["n"]
    return found


# --- suggestions -----------------------------------------------------------------------------------

@transaction.atomic
def suggestion_answer(*, item: ReviewItem, by: By, account: str = "", account_name: str = "",
                      dimensions: dict[str, str] | None = None) -> CodingCorrection:
    """Accept (no account given) or correct a suggested coding, per field: the account, and each
    proposed dimension (`dimensions` key -> value overrides the model's; a key absent keeps it). The
    decision codes this expense, feeds the next training, and the record goes again."""
    item = ReviewItem.objects.select_for_update().select_related("record__connection").get(pk=item.pk)
    if not item.is_open or item.reason != ReviewItem.Reason.SUGGESTED_CODING:
        raise ReviewError(said("not_a_suggestion"), code="not_a_suggestion")
    guess = item.context
    proposed = {k: v["value"] for k, v in (guess.get("dimensions") or {}).items()}
    unknown = sorted(set(dimensions or {}) - set(proposed))
    if unknown:
        raise ReviewError(said("dimension_not_proposed", keys=", ".join(unknown)), code="dimension_not_proposed")
    chosen = {**proposed, **{k: v.strip() for k, v in (dimensions or {}).items()}}
    accepted = (not account or account == guess.get("account")) and chosen == proposed
    model_account = not guess.get("account_from")
    correction = CodingCorrection.objects.create(
        connection=item.record.connection, source_id=item.record.source_id,
        account=account or guess.get("account", ""),
        account_name=account_name if account and account != guess.get("account") else guess.get("account_name", ""),
        predicted_account=guess.get("account", "") if model_account else "",
        predicted_probability=guess.get("probability") if model_account else None,
        model_version=guess.get("model_version"), accepted=accepted, by=_user_or_none(by), by_label=_label(by),
        dimensions={k: v for k, v in chosen.items() if v}, predicted_dimensions=guess.get("dimensions") or {})
    if not correction.account:
        raise ReviewError(said("account_required"), code="account_required")
    changed = [f"{k} {v or '(blank)'}" for k, v in chosen.items() if v != proposed[k]]
    what = correction.account_name or correction.account
    note = (f"accepted the suggestion {what}" if accepted else
            "corrected to " + "; ".join(([what] if account and account != guess.get("account") else []) + changed))
    review_item_resolve(item=item, resolution=ReviewItem.Resolution.FIXED_MAPPING, by=by, note=note)
    return correction


# --- coding rules ----------------------------------------------------------------------------------

def _outcome(doc: ExpenseDocument, snapshot: MappingSnapshot, settings: ConnectionSettings) -> str:
    """What this snapshot does with the expense, in words a person compares."""
    skipped = skipped_by(doc, snapshot)
    if skipped:
        return skipped
    held = holds_for(doc, snapshot)
    if held:
        return f"held: {', '.join(held)}"
    result = resolve(doc, snapshot, settings)
    if not isinstance(result, AccountingEntry):
        return "gap: " + ", ".join(f"{i.kind} {i.key}" for i in result.items)
    line = result.lines[0]
    dims = ", ".join(f"{d.kind}={d.remote_id}" for d in line.dimensions)
    return " · ".join(x for x in (f"account {line.account}", f"tax {line.tax_rate}" if line.tax_rate else "",
                                  dims, f"contact {result.contact}" if result.contact else "") if x)


def _with_rule(snapshot: MappingSnapshot, rule: CodingRule) -> tuple[MappingSnapshot, MappingSnapshot]:
    others = tuple(r for r in snapshot.rules if r.id != rule.pk)
    together = tuple(sorted((*others, CodingRuleData.from_model(rule)), key=lambda r: (r.position, r.id)))
    return (dataclasses.replace(snapshot, rules=others), dataclasses.replace(snapshot, rules=together))


def _records(rule: CodingRule, statuses: Iterable[str]) -> QuerySet[ExportRecord]:
    """The candidates, newest first. Only expenses the rule matches can change, so its category and
    currency conditions narrow them in SQL; the rest is decided by the rule itself."""
    qs = ExportRecord.objects.filter(connection_id=rule.connection_id, kind=Kind.EXPENSE, status__in=statuses)
    if rule.categories:
        qs = qs.filter(expense__category__code__in=list(rule.categories))
    if rule.currency:
        qs = qs.filter(expense__currency=rule.currency)
    return (qs.select_related("expense__report", "expense__category", "expense__employee", "expense__card")
            .prefetch_related("expense__receipts").defer("expense__report__raw", "expense__details")
            .order_by("-id"))


def _pending_changes(rule: CodingRule, without: MappingSnapshot, with_rule: MappingSnapshot,
                     settings: ConnectionSettings, *, limit: int | None = None,
                     ) -> Iterator[list[tuple[ExportRecord, ExpenseDocument, str, str]]]:
    """Every pending record the rule codes differently (of the newest `limit` candidates, if given),
    newest first, one batch of at most `APPLY_BATCH` candidates at a time (keyset on the id: memory
    and each query stay bounded)."""
    candidates = _records(rule, UNSENT)
    last_id, left = None, limit
    while left is None or left > 0:
        size = APPLY_BATCH if left is None else min(APPLY_BATCH, left)
        batch = list((candidates if last_id is None else candidates.filter(pk__lt=last_id))[:size])
        if not batch:
            return
        last_id = batch[-1].pk
        if left is not None:
            left -= len(batch)
        changed = []
        for record in batch:
            doc = documents.document_from_expense(record.expense)
            before, after = _outcome(doc, without, settings), _outcome(doc, with_rule, settings)
            if before != after:
                changed.append((record, doc, before, after))
        yield changed


def _row(record: ExportRecord, doc: ExpenseDocument, before: str, after: str) -> dict[str, Any]:
    return {"record_id": record.pk, "source_id": record.source_id, "status": record.status, "date": doc.date,
            "merchant": doc.merchant, "amount": doc.amount, "currency": doc.currency, "before": before,
            "after": after}


def rule_test(*, rule: CodingRule) -> dict[str, Any]:
    """The expenses this rule (as saved, active or not) changes: booked ones (shown only) and pending
    ones (what applying it re-codes; the first `PENDING_SAMPLE` listed), with the count and amount per
    currency of those it changes among the newest `PENDING_EXAMINED` pending candidates. Deciding an
    expense is Python work (~1 ms each), so a request decides a bounded number: `pending_candidates`
    says how many the rule could match in all, and applying decides every one of them."""
    snapshot = mapping_snapshot(rule.connection)
    without, with_rule = _with_rule(snapshot, rule)
    settings = ConnectionSettings.from_connection(rule.connection)
    result: dict[str, Any] = {"past": [], "pending": [], "pending_count": 0, "pending_amounts": {},
                              "pending_candidates": _records(rule, UNSENT).count(),
                              "past_note": _("Booked expenses: only the latest %(n)s the rule could match are "
                                             "examined.") % {"n": PAST_SAMPLE}}
    for record in _records(rule, [Status.EXPORTED])[:PAST_SAMPLE]:
        doc = documents.document_from_expense(record.expense)
        before, after = _outcome(doc, without, settings), _outcome(doc, with_rule, settings)
        if before != after:
            result["past"].append(_row(record, doc, before, after))
    amounts: defaultdict[str, Decimal] = defaultdict(Decimal)
    for changed in _pending_changes(rule, without, with_rule, settings, limit=PENDING_EXAMINED):
        for record, doc, before, after in changed:
            if len(result["pending"]) < PENDING_SAMPLE:
                result["pending"].append(_row(record, doc, before, after))
            result["pending_count"] += 1
            amounts[doc.currency] += abs(doc.amount)
    result["pending_amounts"] = dict(sorted(amounts.items()))
    result["pending_examined"] = min(result["pending_candidates"], PENDING_EXAMINED)
    return result


def rule_apply(*, rule: CodingRule, by: By = None, effect: dict[str, Any] | None = None) -> dict[str, Any]:
    """Turns the rule on and re-codes the pending records it changes (all of them, in batches);
    exported ones stay as booked. Up to `APPLY_INLINE_MAX` candidates this happens now; above, in
    the task `exports.tasks.coding_rule_apply` (`queued`: the count is then what the test found among
    the newest candidates, from `effect` when the caller has just tested it; the task's result says
    what it re-coded)."""
    with transaction.atomic():
        if not rule.active:
            rule.active = True
            rule._change_reason = REASON_RULE_APPLIED  # type: ignore[attr-defined]  # simple_history
            rule._history_user = _user_or_none(by)  # type: ignore[attr-defined]
            rule.save()
    if _records(rule, UNSENT).count() > APPLY_INLINE_MAX:
        effect = effect if effect is not None else rule_test(rule=rule)
        user = _user_or_none(by)
        async_task("exports.tasks.coding_rule_apply", rule.pk, user.pk if user else None, group="coding",
                   timeout=APPLY_TASK_TIMEOUT)
        return {"records": effect["pending_count"], "amounts": effect["pending_amounts"], "queued": True}
    return {**rule_recode(rule=rule, by=by), "queued": False}


def rule_recode(*, rule: CodingRule, by: By = None) -> dict[str, Any]:
    """Re-codes every pending record the (active) rule changes, one transaction per batch: parked
    records it now decides (mapping gap, suggestion) go again. The count and amounts re-coded."""
    snapshot = mapping_snapshot(rule.connection)
    without, with_rule = _with_rule(snapshot, rule)
    settings = ConnectionSettings.from_connection(rule.connection)
    count = 0
    amounts: defaultdict[str, Decimal] = defaultdict(Decimal)
    for changed in _pending_changes(rule, without, with_rule, settings):
        ids = [record.pk for record, *_rest in changed]
        with transaction.atomic():
            items = ReviewItem.objects.filter(record_id__in=ids, resolved_at__isnull=True, reason__in=(
                ReviewItem.Reason.MAPPING_GAP, ReviewItem.Reason.SUGGESTED_CODING))
            for item in items:
                review_item_resolve(item=item, resolution=ReviewItem.Resolution.FIXED_MAPPING, by=by,
                                    note=f"re-coded by rule #{rule.pk}")
            for record in _records(rule, [Status.PENDING, Status.RETRY]).filter(pk__in=ids):
                entry = resolve(documents.document_from_expense(record.expense), with_rule, settings)
                if isinstance(entry, AccountingEntry):
                    ExportRecord.objects.filter(pk=record.pk).update(entry_preview=entry_to_json(entry),
                                                                     mapping_version=entry.mapping_version)
        count += len(changed)
        for _record, doc, *_rest in changed:
            amounts[doc.currency] += abs(doc.amount)
    return {"records": count, "amounts": dict(sorted(amounts.items()))}


def rule_recode_queued(*, rule_id: int, user_id: int | None) -> dict[str, Any]:
    """The task's side of `rule_apply` (the rule and the person who applied it, by id)."""
    rule = CodingRule.objects.select_related("connection").get(pk=rule_id)
    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    result = rule_recode(rule=rule, by=user)
    log.info("coding rule #%s re-coded %s pending expense(s)", rule_id, result["records"])
    return result
