"""Building a document in Business Central so that a lookup by our reference only sees it whole.

BC has no transaction across requests, and a journal line needs its id back before its
dimensions or a receipt can be added. So a document that takes more than one request is built
under `schema.pending_number(number)`; its last request (one snapshot `$batch`: the dimensions
and the renaming to our number) makes it whole and visible in one step. A document that fits
one request is created under our number directly.

If a step fails with anything but `OutcomeUnknown`, what this attempt made is taken out again
(best effort: pieces left behind carry the pending number, so no lookup reports them, and the
next attempt clears them before it re-creates). After `OutcomeUnknown` nothing is taken out:
the connector looks the reference up first.

Posting (the connection's `post` option) goes through a journal batch of the document's own,
`schema.posting_journal_code(number)`: `Microsoft.NAV.post` posts every line of a batch, and a
shared batch may hold another worker's half-made lines. The batch is deleted once posted.
"""

import logging
from dataclasses import dataclass, field
from urllib.parse import quote

from ..entry import Attachment
from ..errors import ConnectorError, OutcomeUnknown, Permanent
from . import schema
from .catalog import Piece

log = logging.getLogger(__name__)
ANY = {"If-Match": "*"}


@dataclass
class Made:
    """What this attempt created so far, to take out again if it fails."""
    journal: str = ""                                   # a posting journal of the document's own
    lines: list[str] = field(default_factory=list)      # lines in the connection's journal
    header: str = ""                                    # a purchase invoice
    attachments: list[str] = field(default_factory=list)

    def paths(self) -> list[str]:
        # Receipts first: they are records of their own and outlive their parent.
        return self.attachments + ([f"journals({self.journal})"] if self.journal else self.lines) + \
            ([self.header] if self.header else [])


def create_journal(connector, lines: list[schema.JournalLine], number: str, key: str, *,
                   files: list[tuple[Attachment, bytes]], post: bool) -> None:
    client, cp = connector.client, connector.cp
    staged = bool(files) or any(ln.dimensions for ln in lines)
    label = schema.pending_number(number) if staged else number
    for ln in lines:
        ln.body.update(documentNumber=label, externalDocumentNumber=label)
    made = Made()
    try:
        journal = open_posting_journal(connector, number, made) if post else connector.journal_id()
        path = cp(f"journals({journal})/journalLines")
        if len(lines) == 1:
            ids = [client.request("POST", path, json_body=lines[0].body, idempotency_key=key).body["id"]]
        else:
            inner = client.batch([{"method": "POST", "url": path, "body": ln.body} for ln in lines],
                                 idempotency_key=key)
            ids = [r["body"]["id"] for r in inner]
        if not post:
            made.lines = [f"journals({journal})/journalLines({i})" for i in ids]
        # One set of receipts per document: on its first line (contract A7.1 step 4).
        attach(connector, ids[0], "Journal", files, made, key)
        if staged:
            dims = [{"method": "POST", "url": cp(f"journalLines({i})/dimensionSetLines"), "body": d}
                    for i, ln in zip(ids, lines, strict=True) for d in ln.dimensions]
            rename = [{"method": "PATCH", "url": cp(f"journals({journal})/journalLines({i})"), "headers": ANY,
                       "body": {"documentNumber": number, "externalDocumentNumber": number}} for i in ids]
            client.batch(dims + rename, idempotency_key=key)
        if post:
            post_journal(connector, journal, key)
    except OutcomeUnknown:
        raise
    except ConnectorError:
        discard(connector, made)
        raise


def create_invoice(connector, invoice: schema.PurchaseInvoice, key: str, *,
                   files: list[tuple[Attachment, bytes]], post: bool) -> str:
    client, cp = connector.client, connector.cp
    number = invoice.header["vendorInvoiceNumber"]
    simple = len(invoice.lines) == 1 and not invoice.lines[0].dimensions
    staged = bool(files) or not simple
    body = {**invoice.header, "vendorInvoiceNumber": schema.pending_number(number) if staged else number}
    if simple:       # deep insert is documented for a header with one line (contract A7.2)
        body["purchaseInvoiceLines"] = [invoice.lines[0].body]
    made = Made()
    try:
        header = client.request("POST", cp("purchaseInvoices"), json_body=body, idempotency_key=key).body
        made.header = f"purchaseInvoices({header['id']})"
        rename = [{"method": "PATCH", "url": cp(made.header), "headers": ANY, "body": {"vendorInvoiceNumber": number}}]
        commit = rename if staged else []
        if not simple:
            path = cp(f"purchaseInvoices({header['id']})/purchaseInvoiceLines")
            # Nothing to add between the lines and the renaming: one snapshot batch does both.
            fold = not files and not any(ln.dimensions for ln in invoice.lines)
            inner = client.batch([{"method": "POST", "url": path, "body": ln.body} for ln in invoice.lines]
                                 + (rename if fold else []), idempotency_key=key)
            dims = [{"method": "POST", "url": cp(f"purchaseInvoiceLines({r['body']['id']})/dimensionSetLines"),
                     "body": d} for r, ln in zip(inner[:len(invoice.lines)], invoice.lines, strict=True)
                    for d in ln.dimensions]
            commit = [] if fold else dims + rename
        attach(connector, header["id"], "Purchase Invoice", files, made, key)
        if commit:
            client.batch(commit, idempotency_key=key)
        if post:
            client.request("POST", cp(f"purchaseInvoices({header['id']})/Microsoft.NAV.post"), idempotency_key=key)
    except OutcomeUnknown:
        raise
    except ConnectorError:
        discard(connector, made)
        raise
    return header["id"]


def attach(connector, parent_id: str, parent_type: str, files: list[tuple[Attachment, bytes]], made: Made,
           key: str) -> None:
    """Contract A7.3: the attachment record, then its content."""
    client, cp = connector.client, connector.cp
    for att, content in files:
        row = client.request("POST", cp("attachments"), idempotency_key=key, json_body={
            "parentId": parent_id, "fileName": att.filename, "parentType": parent_type}).body
        made.attachments.append(f"attachments({row['id']})")
        client.request("PATCH", cp(f"attachments({row['id']})/attachmentContent"), data=content, idempotency_key=key,
                       headers={**ANY, "Content-Type": att.content_type or "application/octet-stream"})


def open_posting_journal(connector, number: str, made: Made) -> str:
    client, cp = connector.client, connector.cp
    code = schema.posting_journal_code(number)
    body = {"code": code, "displayName": f"Expensico {number}", "templateDisplayName": "GENERAL"}
    try:
        row = client.request("POST", cp("journals"), json_body=body).body
    except Permanent as exc:
        if exc.code != "Internal_EntityWithSameKeyExists":
            raise
        # An earlier attempt's batch whose clean-up did not get through: start it afresh.
        for old in client.list_all(cp("journals"), **{"$filter": f"code eq {schema.odata_quote(code)}"}):
            client.request("DELETE", cp(f"journals({old['id']})"), headers=ANY)
        row = client.request("POST", cp("journals"), json_body=body).body
    made.journal = row["id"]
    return row["id"]


def post_journal(connector, journal: str, key: str) -> None:
    """Posts a document's own journal batch, then deletes the (now empty) batch."""
    client, cp = connector.client, connector.cp
    client.request("POST", cp(f"journals({journal})/Microsoft.NAV.post"), idempotency_key=key)
    try:
        client.request("DELETE", cp(f"journals({journal})"), headers=ANY)
    except ConnectorError as exc:
        # Harmless: an empty batch posts nothing (a later attempt for the same document removes it).
        log.warning("empty posting journal %s left in Business Central: %s", journal, exc)


def discard(connector, made: Made) -> None:
    paths = made.paths()
    if not paths:
        return
    try:
        remove(connector, paths)
    except ConnectorError as exc:
        # A staged document still carries its pending number, so no lookup reports it; whatever is
        # left, the next attempt with this key clears it (or, if whole, completes its posting).
        log.warning("half-made document left in Business Central (%s): %s", ", ".join(paths), exc)


def clear(connector, pieces: list[Piece], *, receipts_too: bool) -> None:
    """Takes out the pieces of a half-made document an earlier attempt left behind."""
    if not pieces:
        return
    paths = []
    parents = [p for piece in pieces for p in piece.parents]
    if receipts_too and parents:
        ops = [{"method": "GET", "url": connector.cp("attachments") + "?$filter=" + quote(f"parentId eq {p}")}
               for p in parents]
        for item in connector.client.batch(ops, read_only=True):
            paths += [f"attachments({a['id']})" for a in (item.get("body") or {}).get("value", [])]
    remove(connector, paths + [piece.path for piece in pieces])


def remove(connector, paths: list[str]) -> None:
    """DELETEs, each on its own (no snapshot): one already gone must not keep the others."""
    connector.client.batch([{"method": "DELETE", "url": connector.cp(p), "headers": ANY} for p in paths],
                           snapshot=False, tolerate=(404,))
