"""From an export record to the AccountingEntry to send, through mappings (pure) — or the reason
it cannot be sent yet (a mapping gap or a hold rule). Reads only; never calls a vendor."""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from connectors.entry import AccountingEntry
from connectors.models import Connection
from mappings import documents
from mappings.documents import ExpenseDocument
from mappings.resolve import Document, MappingGap, Resolved, holds_for, resolve, skipped_by
from mappings.selectors import coding_decision, mapping_fingerprint, mapping_snapshot
from mappings.settings import ConnectionSettings
from mappings.snapshot import MappingSnapshot

from ..entries import entry_from_json, redated, reversal_of
from ..errors import NoSourceDocument
from ..messages import Message, said, word
from ..models import ExportRecord, Kind, ReviewItem


@dataclass(frozen=True)
class Resolution:
    entry: AccountingEntry | None = None
    mapping_version: str = ""
    review_reason: str = ""            # a ReviewItem.Reason when the record cannot go out
    detail: str = ""                   # a messages.Message where it is ours
    context: dict[str, Any] = field(default_factory=dict)
    skipped: str = ""                  # a coding rule says never to export this: why


_snapshots: ContextVar[dict[int, MappingSnapshot] | None] = ContextVar("exports_snapshots", default=None)


@contextmanager
def snapshots_shared() -> Iterator[None]:
    """Within one worker batch, each connection's mapping snapshot is read once (a batch lasts
    seconds; a mapping fixed meanwhile re-queues its records anyway)."""
    token = _snapshots.set({})
    try:
        yield
    finally:
        _snapshots.reset(token)


# This process's last snapshot of each connection, with the fingerprint it was built under.
_built: dict[int, tuple[tuple[Any, ...], MappingSnapshot]] = {}


def _snapshot(connection: Connection) -> MappingSnapshot:
    cache = _snapshots.get()
    if cache is None:
        return mapping_snapshot(connection)
    if connection.pk not in cache:
        cache[connection.pk] = _snapshot_current(connection)
    return cache[connection.pk]


def _snapshot_current(connection: Connection) -> MappingSnapshot:
    """Rebuilt only when the connection's mapping fingerprint moved (three statements instead of
    eleven per batch, and no re-hashing of the whole set)."""
    fingerprint = mapping_fingerprint(connection)
    known = _built.get(connection.pk)
    if known is not None and known[0] == fingerprint:
        return known[1]
    snapshot = mapping_snapshot(connection)
    _built[connection.pk] = (fingerprint, snapshot)
    return snapshot


def _document(record: ExportRecord) -> Document:
    if record.kind == Kind.EXPENSE:
        return documents.document_from_expense(record.expense)
    if record.card_funding_id:
        return documents.document_from_funding(record.card_funding)
    if record.reimbursement_id:
        return documents.document_from_reimbursement(record.reimbursement)
    if record.statement_line_id:
        return documents.document_from_statement_line(record.statement_line)
    raise NoSourceDocument(f"record {record.pk} ({record.kind}) has no source document to build an entry from")


def _suggestion_resolution(gap: MappingGap, version: str) -> Resolution:
    """The model has a guess below the auto-apply threshold for the account and/or dimensions the
    expense left blank (per field); nothing else is missing."""
    guess = gap.suggestion
    assert guess is not None  # only called with one
    category = next((i for i in gap.items if i.kind == "category"), None)
    disagrees = category.detail if category and category.detail.startswith("the model disagrees") else ""
    fields = [said("suggested_dimension", key=g.key, value=g.value, label=g.label) for g in guess.dimensions]
    name = guess.account_name or guess.account
    account = (said("suggested_account_from", account=name, source=gap.account_from) if gap.account_from
               else said("suggested_account", account=name, label=guess.label))
    parts = [*fields, account] if gap.account_from else [account, *fields]
    detail = (said("suggested_disagrees", parts=parts, disagrees=disagrees) if disagrees
              else said("suggested", parts=parts))
    return Resolution(mapping_version=gap.mapping_version or version, review_reason=ReviewItem.Reason.SUGGESTED_CODING,
                      detail=detail,
                      context={"account": guess.account, "account_name": guess.account_name,
                               "probability": None if gap.account_from else guess.probability,
                               "model_version": guess.model_version, "account_from": gap.account_from,
                               "category": category.key if category else "",
                               "dimensions": {g.key: {"value": g.value, "probability": g.probability}
                                              for g in guess.dimensions},
                               **({"disagrees": disagrees} if disagrees else {})})


def _gap_resolution(gap: MappingGap, version: str) -> Resolution:
    if gap.suggestion is not None and gap.kinds <= {"category", "suggestion"}:
        return _suggestion_resolution(gap, version)
    items = [{"kind": i.kind, "key": i.key, "detail": i.detail} for i in gap.items]
    described = [_gap_item(i.kind, i.key, i.detail) for i in gap.items]
    return Resolution(mapping_version=gap.mapping_version or version, review_reason=ReviewItem.Reason.MAPPING_GAP,
                      detail=said("mapping_gap", items=described or [said("mapping_gap_unknown")]),
                      context={"items": items})


def _gap_item(kind: str, key: str, detail: str) -> Message:
    """One missing mapping: its kind in words; a missing account setting in our own words."""
    if kind == "setting" and detail == f"choose the {key} account on the connection":
        detail = said("gap_setting_account", which=word(key))
    elif kind == "setting" and key == "Funding bank" and detail == "choose the funding bank account on the connection":
        detail = said("gap_setting_account", which=word(key))
    return said("gap_item", kind=word(kind), key=key, detail=detail) if detail else \
        said("gap_item_bare", kind=word(kind), key=key)


def _hold(document: ExpenseDocument, snapshot: MappingSnapshot) -> tuple[str, str] | None:
    """(review reason, detail) when a hold rule stops this expense."""
    names = holds_for(document, snapshot)
    if not names:
        return None
    rules = [h for h in snapshot.holds if h.name in names]
    # Each rule's name kept as it is (a coding rule's hold is written in words with their code).
    named = names[0] if len(names) == 1 else list(names)
    if any(r.missing_receipt for r in rules):
        return ReviewItem.Reason.MISSING_RECEIPT, said("held_missing_receipt", rules=named)
    return ReviewItem.Reason.HOLD_RULE, said("held_by_rule", rules=named)


def _model_or_gap(result: Resolved) -> bool:
    if isinstance(result, AccountingEntry):
        return any(str(v).startswith("model") for k, v in result.extra if k.startswith("coded_by"))
    return bool(result.kinds & {"category", "suggestion"})


def record_resolve(*, record: ExportRecord, apply_holds: bool = True) -> Resolution:
    resolution = _resolve(record, apply_holds)
    if resolution.entry is not None and record.posting_date:
        # Its own period was closed: the same document, posted on the next open day.
        entry = redated(resolution.entry, on=record.posting_date)
        return Resolution(entry=entry, mapping_version=resolution.mapping_version)
    return resolution


def _resolve(record: ExportRecord, apply_holds: bool) -> Resolution:
    if record.kind == Kind.REVERSAL:
        original = record.reverses
        assert original is not None  # a reversal record always names the record it reverses
        if not original.entry_preview:
            return Resolution(review_reason=ReviewItem.Reason.REMOTE_ERROR,
                              detail=said("reversal_no_entry"))
        entry = reversal_of(entry_from_json(original.entry_preview), on=timezone.localdate())
        return Resolution(entry=entry, mapping_version=original.mapping_version)

    document = _document(record)
    snapshot = _snapshot(record.connection)
    version = str(snapshot.version)
    if record.kind == Kind.EXPENSE and isinstance(document, ExpenseDocument):
        skipped = skipped_by(document, snapshot)
        if skipped:
            return Resolution(mapping_version=version, skipped=skipped, detail=skipped)
        # A person released this record's hold: hold rules no longer stop it, on any retry.
        if apply_holds and record.hold_released_at is None:
            held = _hold(document, snapshot)
            if held:
                return Resolution(mapping_version=version, review_reason=held[0], detail=held[1])
    settings = ConnectionSettings.from_connection(record.connection)
    result = resolve(document, snapshot, settings)
    if record.kind == Kind.EXPENSE and _model_or_gap(result):
        # Only then can a reviewer's decision exist (they answer suggestions): one query, not one per record.
        decision = coding_decision(record.connection, document.source_id)
        if decision is not None:
            result = resolve(document, snapshot, settings, decision=decision)
    if isinstance(result, AccountingEntry):
        return Resolution(entry=result, mapping_version=result.mapping_version or version)
    return _gap_resolution(result, version)
