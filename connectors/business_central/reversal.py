"""Reversal, Business Central's way: unposted journal lines and draft purchase invoices are
deleted (`If-Match` with their ETag); a posted journal document gets a reversing journal document
and a posted purchase invoice a corrective credit memo, each numbered `reversal_number(reference)`
so the original can be recognised as reversed. Either is posted only with the `post` option."""

from typing import Any

from ..base import PushResult
from ..entry import AccountingEntry
from ..errors import Permanent
from . import catalog as bc_catalog
from . import documents, schema


def reversal_number(reference: str) -> str:
    return schema.short_reference("R:" + reference)


def reverse(connector: Any, external_id: str, entry: AccountingEntry, idempotency_key: str) -> PushResult:
    client = connector.client
    before = client.calls
    kind, _, ident = external_id.partition(":")
    if kind == "PI":
        return _reverse_invoice(connector, ident, entry, idempotency_key, before)
    short, reference = ident, entry.reverses or ""
    number = reversal_number(reference) if reference else ""
    original, reversal, pieces = bc_catalog.journal_state(connector, short, number)
    if original.unposted:
        shared = connector.settings.journal_id
        ops = [{"method": "DELETE", "url": connector.cp(f"journals({shared})/journalLines({ln['id']})"),
                "headers": {"If-Match": ln.get("@odata.etag", "*")}} for ln in original.shared]
        if original.own_lines and original.journal is not None:   # own lines live in its own journal
            ops.append({"method": "DELETE", "url": connector.cp(f"journals({original.journal['id']})"),
                        "headers": documents.ANY})
        client.batch(ops)
        return PushResult(external_id=external_id, calls=client.calls - before)
    if not original.posted:
        return PushResult(external_id=external_id, calls=client.calls - before,
                          notes=("already gone in Business Central",))
    if reversal and reversal.exists:
        # Made earlier, its posting never landed (own lines: it has a journal of its own).
        if connector.posting and reversal.own_lines and reversal.journal is not None:
            documents.post_journal(connector, reversal.journal["id"], idempotency_key)
        return PushResult(external_id=external_id, calls=client.calls - before,
                          notes=("already reversed",))
    if not reference:
        raise Permanent("a posted journal needs the reversal entry's `reverses` reference", field="reverses")
    try:
        lines = connector.journal_lines(entry)
    except schema.UnsupportedEntry as exc:
        raise Permanent(str(exc), code=exc.code, field=exc.field) from exc
    documents.clear(connector, pieces, receipts_too=False)
    # Without the `post` option the reversing document waits, unposted, for the accountant.
    documents.create_journal(connector, lines, number, idempotency_key, files=[], post=connector.posting)
    return PushResult(external_id=f"GJ:{number}", calls=client.calls - before)


def _reverse_invoice(connector: Any, invoice_id: str, entry: AccountingEntry, key: str, before: int) -> PushResult:
    client, cp = connector.client, connector.cp
    external_id = f"PI:{invoice_id}"
    try:
        row = client.request("GET", cp(f"purchaseInvoices({invoice_id})")).body
    except Permanent as exc:
        if exc.status != 404:
            raise
        return PushResult(external_id=external_id, calls=client.calls - before,
                          notes=("already deleted in Business Central",))
    if row["status"] in ("Draft", " ", ""):
        client.request("DELETE", cp(f"purchaseInvoices({invoice_id})"),
                       headers={"If-Match": row.get("@odata.etag", "*")})
        return PushResult(external_id=external_id, calls=client.calls - before)
    # Posted: BC's way is a corrective credit memo applied to the invoice, then posted.
    number = reversal_number(entry.reverses or row["vendorInvoiceNumber"])
    existing = client.list_all(cp("purchaseCreditMemos"),
                               **{"$filter": f"vendorCreditMemoNumber eq {schema.odata_quote(number)}"})
    if existing and existing[0]["status"] == "Draft" and connector.posting:   # made earlier, never posted
        client.request("POST", cp(f"purchaseCreditMemos({existing[0]['id']})/Microsoft.NAV.post"),
                       idempotency_key=key)
        return PushResult(external_id=f"PCM:{existing[0]['id']}", calls=client.calls - before)
    if existing or row["status"] == "Corrective":
        return PushResult(external_id=external_id, calls=client.calls - before,
                          notes=("already reversed",))
    try:
        memo = schema.credit_memo(entry, vendor_id=row["vendorId"], invoice_id=invoice_id, number=number,
                                  lcy=connector.settings.lcy)
    except schema.UnsupportedEntry as exc:
        raise Permanent(str(exc), code=exc.code, field=exc.field) from exc
    header = client.request("POST", cp("purchaseCreditMemos"), idempotency_key=key, json_body={
        **memo.header, "purchaseCreditMemoLines": [ln.body for ln in memo.lines]}).body
    if connector.posting:     # otherwise the draft credit memo waits for the accountant
        client.request("POST", cp(f"purchaseCreditMemos({header['id']})/Microsoft.NAV.post"),
                       idempotency_key=key)
    return PushResult(external_id=f"PCM:{header['id']}", calls=client.calls - before)
