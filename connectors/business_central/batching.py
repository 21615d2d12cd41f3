"""Push many: journal documents of one request each go out in one `$batch`, each document's lines
in an atomicity group of their own, so a document Business Central refuses fails alone."""

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from ..base import PushResult
from ..entry import AccountingEntry
from ..errors import ConnectorError, PeriodClosed, Permanent, Transient
from . import catalog as bc_catalog
from . import documents, schema

# Documents one `$batch` carries (push many): each in its own atomicity group (≤100 operations a
# call); 50 lets a backlog spread over the workers while a call still carries many.
DOCUMENTS_PER_BATCH = 50


def push_many(connector: Any, items: Sequence[tuple[AccountingEntry, str]]) -> list[PushResult | ConnectorError]:
    """Journal documents that fit one request each (no receipt, no dimensions, not posted by
    us) go in one `$batch`, each document's lines in an atomicity group of their own, so a
    document BC refuses fails alone. Anything else takes `push`'s road, one by one. Documents
    whose key was sent before are looked up first, all in one read-only batch (a group is all
    or nothing, so an absent one left no pieces but those a staged attempt may have)."""
    before = connector.client.calls
    out: dict[int, PushResult | ConnectorError] = {}
    simple: dict[int, list[schema.JournalLine]] = {}
    for i, (entry, _key) in enumerate(items):
        if not connector.pushes_together(entry):
            continue
        try:
            lines = connector.journal_lines(entry)
        except schema.UnsupportedEntry as exc:
            out[i] = Permanent(str(exc), code=exc.code, field=exc.field)
            continue
        simple[i] = lines
    for i in range(len(items)):
        if i not in simple and i not in out:
            try:
                out[i] = connector.push(*items[i])
            except ConnectorError as exc:
                out[i] = exc
    _resume_many(connector, items, simple, out)
    groups = _groups(simple)
    for chunk in groups:
        try:
            _send_groups(connector, items, {i: simple[i] for i in chunk}, out)
        except ConnectorError as exc:     # what befell the call befell each document in it
            out.update({i: exc for i in chunk})
    calls = connector.client.calls - before
    return [replace(r, calls=calls) if isinstance(r, PushResult) and i in simple else r
            for i, r in ((i, out[i]) for i in range(len(items)))]


def _resume_many(connector: Any, items: Sequence[tuple[AccountingEntry, str]],
                 simple: dict[int, list[schema.JournalLine]], out: dict[int, PushResult | ConnectorError]) -> None:
    sent = connector.client.first_sent_many([items[i][1] for i in simple])
    again = [i for i in simple if items[i][1] in sent]
    if not again:
        return
    states = bc_catalog.resume_states(connector, [items[i][0].reference for i in again])
    for i in again:
        found, _doc, pieces = states[items[i][0].reference]
        try:
            documents.clear(connector, pieces, receipts_too=False)
        except ConnectorError as exc:
            out[i] = exc
            del simple[i]
            continue
        if found is not None:
            number = found.external_id.partition(":")[2] if found.external_id.startswith("GJ:") else ""
            out[i] = PushResult(external_id=found.external_id, replayed=True, document_number=number)
            del simple[i]


def _groups(simple: dict[int, list[schema.JournalLine]]) -> list[list[int]]:
    """Documents per `$batch`: whole documents only, at most 100 operations a call."""
    chunks: list[list[int]] = [[]]
    used = 0
    for i, lines in simple.items():
        if chunks[-1] and (used + len(lines) > schema.MAX_BATCH or len(chunks[-1]) >= DOCUMENTS_PER_BATCH):
            chunks.append([])
            used = 0
        chunks[-1].append(i)
        used += len(lines)
    return [c for c in chunks if c]


def _send_groups(connector: Any, items: Sequence[tuple[AccountingEntry, str]],
                 docs: dict[int, list[schema.JournalLine]], out: dict[int, PushResult | ConnectorError]) -> None:
    path = connector.cp(f"journals({connector.journal_id()})/journalLines")
    ops: list[dict[str, Any]] = []
    owner: list[int] = []
    for i, lines in docs.items():
        for ln in lines:
            ops.append({"method": "POST", "url": path, "body": ln.body, "atomicityGroup": f"doc{i}"})
            owner.append(i)
    responses = connector.client.batch_groups(ops, keys=[items[i][1] for i in docs])
    broken: set[int] = set()
    causes: dict[int, ConnectorError] = {}
    for i, resp in zip(owner, responses, strict=True):
        status = int(resp.get("status", 500))
        if status >= 400:
            broken.add(i)
        if status >= 400 and status != 424 and i not in causes:   # a 424 only points at the cause
            causes[i] = connector.client._translate(status, resp.get("body"), resp.get("headers") or {}, "")
    for i in docs:
        if i in broken:
            error = causes.get(i) or Transient("the document's group was not run (424)")
            if isinstance(error, PeriodClosed):
                connector.closed_through(error)
            out[i] = error
            continue
        number = schema.short_reference(items[i][0].reference)
        out[i] = PushResult(external_id=f"GJ:{number}", document_number=number)
