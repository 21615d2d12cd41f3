"""The mapping set's history as a diff, and putting it back the way it was.

simple-history keeps one row per change of every mapping; this module reads them across all
kinds of one connection (the "mapping set") and restores a chosen point in time.
"""

import re
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils.translation import gettext, gettext_noop, pgettext_lazy

from .models import MAPPING_MODELS, MODEL_BY_KIND

_SKIP = {"id", "organization", "connection", "updated_at"}
_ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}
ACTION_LABELS = {"created": pgettext_lazy("mapping history", "created"),
                 "changed": pgettext_lazy("mapping history", "changed"),
                 "deleted": pgettext_lazy("mapping history", "deleted")}

# Why a mapping changed is stored in English (simple-history's `history_change_reason`, kept as
# written) from these templates; a page shows it in its reader's language by matching the template.
REASON_CLONED = gettext_noop("Cloned from %(source)s")
REASON_REVERTED_TO = gettext_noop("Reverted to %(at)s")
REASON_REVERTED_VERSION = gettext_noop("Reverted to version %(version)s")
REASON_SUGGESTION_APPLIED = gettext_noop("Suggestion applied by %(user)s")
REASON_SUGGESTION_AUTO = gettext_noop("Suggestion auto-applied (score %(score)s)")
REASON_RULE_APPLIED = gettext_noop("Applied to pending expenses")
_REASONS = [(re.compile(re.sub(r"%\\\((\w+)\\\)s", r"(?P<\1>.+)", re.escape(template)) + r"\Z", re.S), template)
            for template in (REASON_REVERTED_VERSION, REASON_CLONED, REASON_REVERTED_TO, REASON_SUGGESTION_APPLIED,
                             REASON_SUGGESTION_AUTO, REASON_RULE_APPLIED)]


def reason_text(stored: str) -> str:
    """A stored change reason in the active language (one written some other way stays as it is)."""
    for pattern, template in _REASONS:
        if match := pattern.match(stored):
            return gettext(template) % match.groupdict()
    return stored


def _shown(model, name: str, value: object) -> object:
    """A field's value as a reader knows it: a choice's label, yes or no."""
    field = model._meta.get_field(name)
    if isinstance(value, bool):
        return gettext("Yes") if value else gettext("No")
    if field.choices and value not in (None, ""):
        return dict(field.flatchoices).get(value, value)
    return value


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: object
    new: object
    label: str = ""            # the field's name for a reader
    old_shown: object = None   # the values for a reader (a choice's label, yes or no)
    new_shown: object = None


def _change(model, name: str, old: object, new: object) -> FieldChange:
    return FieldChange(name, old, new, str(model._meta.get_field(name).verbose_name),
                       _shown(model, name, old), _shown(model, name, new))


@dataclass(frozen=True)
class HistoryRow:
    kind: str
    object_id: int
    label: str
    action: str
    at: datetime
    user: str
    reason: str
    history_id: int
    changes: tuple[FieldChange, ...]

    @property
    def kind_label(self) -> str:
        return str(MODEL_BY_KIND[self.kind]._meta.verbose_name)

    @property
    def action_label(self) -> str:
        return str(ACTION_LABELS[self.action])

    @property
    def who(self) -> str:
        return self.user or gettext("system")

    @property
    def why(self) -> str:
        return reason_text(self.reason)


def _fields(model) -> list[str]:
    return [f.name for f in model._meta.concrete_fields if f.name not in _SKIP]


def _label(model, record, connection) -> str:
    """str() of the mapping as it was. `record.instance` would read the live row once per record
    for the fields history does not keep, and a label naming its connection would read that too."""
    instance = model(**{f.attname: getattr(record, f.attname) for f in model._meta.concrete_fields
                        if hasattr(record, f.attname)})
    instance.connection = connection
    return str(instance)


def mapping_set_history(connection, *, kinds=None, limit: int = 200, object_id: int | None = None) -> list[HistoryRow]:
    """Newest first, each with its field-level diff against the previous version of that mapping
    (of one mapping only, given `object_id` and its kind). Two queries per kind, whatever the
    number of rows: `record.prev_record` asked once per row."""
    rows: list[HistoryRow] = []
    for model in MAPPING_MODELS:
        if kinds and model.KIND not in kinds:
            continue
        fields = _fields(model)
        history = model.history.filter(connection_id=connection.pk)
        if object_id is not None:
            history = history.filter(id=object_id)
        before = (model.history.filter(id=OuterRef("id"), history_date__lt=OuterRef("history_date"))
                  .order_by("-history_date", "-history_id").values("history_id")[:1])
        records = list(history.select_related("history_user").annotate(_previous=Subquery(before))
                       .order_by("-history_date", "-history_id")[:limit])
        previous = model.history.in_bulk([r._previous for r in records if r._previous and r.history_type == "~"])
        for record in records:
            prior = previous.get(record._previous)
            if record.history_type == "+" or (record.history_type == "~" and prior is None):
                changes = tuple(_change(model, f, None, getattr(record, f)) for f in fields
                                if getattr(record, f) not in ("", None, [], False))
            elif record.history_type == "-":
                changes = ()
            else:
                delta = record.diff_against(prior, included_fields=fields)
                changes = tuple(_change(model, c.field, c.old, c.new) for c in delta.changes)
            rows.append(HistoryRow(
                kind=model.KIND, object_id=record.id, label=_label(model, record, connection),
                action=_ACTIONS[record.history_type], at=record.history_date,
                user=str(record.history_user or ""), reason=record.history_change_reason or "",
                history_id=record.history_id, changes=changes))
    rows.sort(key=lambda r: r.at, reverse=True)
    return rows[:limit]


def _state_at(model, connection, at: datetime) -> dict[int, object]:
    """id -> historical record as it stood at `at`, for mappings that existed then."""
    seen: set[int] = set()
    state = {}
    for record in (model.history.filter(connection_id=connection.pk, history_date__lte=at)
                   .order_by("id", "-history_date", "-history_id")):
        if record.id in seen:
            continue  # only the newest version at `at` counts
        seen.add(record.id)
        if record.history_type != "-":
            state[record.id] = record
    return state


def mapping_set_revert(*, connection, at: datetime, kinds: list[str] | None = None, user=None) -> dict[str, int]:
    """Makes the set (or some kinds of it) what it was at `at`. Returns counts of what was done.

    Each restore is an ordinary save, so the revert itself appears in history with its author and
    can be undone the same way.
    """
    counts = {"restored": 0, "deleted": 0, "unchanged": 0}
    models = [MODEL_BY_KIND[k] for k in kinds] if kinds else list(MAPPING_MODELS)
    reason = REASON_REVERTED_TO % {"at": at.isoformat(timespec="seconds")}
    with transaction.atomic():
        for model in models:
            then = _state_at(model, connection, at)
            fields = _fields(model)
            current = {obj.pk: obj for obj in model.objects.filter(connection_id=connection.pk)}
            for pk, obj in current.items():
                if pk not in then:
                    obj._change_reason = reason
                    obj._history_user = user
                    obj.delete()
                    counts["deleted"] += 1
            # Delete first, then restore: a restored row may reuse a natural key freed above.
            for pk, record in then.items():
                obj = current.get(pk)
                if obj is not None and all(getattr(obj, f) == getattr(record, f) for f in fields):
                    counts["unchanged"] += 1
                    continue
                restored = record.instance
                restored._change_reason = reason
                restored._history_user = user
                restored.save()
                counts["restored"] += 1
    return counts


def mapping_revert(*, kind: str, connection, history_id: int, user=None):
    """Puts one mapping of `connection` back to one of its historical versions (re-creating it if
    deleted since). LookupError when that version is not of this connection."""
    model = MODEL_BY_KIND[kind]
    record = model.history.filter(history_id=history_id, connection_id=connection.pk).first()
    if record is None:
        raise LookupError(f"no {kind} version {history_id} in this mapping set")
    if record.history_type == "-":
        raise ValueError("That version is a deletion; pick the version before it.")
    restored = record.instance
    restored._change_reason = REASON_REVERTED_VERSION % {"version": history_id}
    restored._history_user = user
    with transaction.atomic():
        restored.save()
    return restored
