"""Business Central documents are whole or invisible, posted alone, with their receipts: over real
HTTPS against the sandbox, failures made with its fault switches."""

import pytest

from connectors.base import connector_for
from connectors.business_central import schema
from connectors.business_central.reversal import reversal_number
from connectors.business_central.sandbox import testkit
from connectors.errors import OutcomeUnknown, RateLimited

from .helpers import (
    RECEIPT,
    arm_after,
    key,
    lines_of,
    posted_numbers,
    set_mode,
    split_entry,
    vendor_entry,
    with_receipt,
)

pytestmark = pytest.mark.django_db


def dimensions_of(server, lines):
    ids = {ln["id"] for ln in lines}
    return [(d["code"], d["valueCode"]) for d in server.app.sets["dimensionSetLines"].values() if d["parentId"] in ids]


# Receipts in journal mode ---------------------------------------------------------------------

def test_journal_mode_attaches_the_receipt_to_the_documents_journal_line(bc_connection, bc_server):
    entry = with_receipt(testkit.sample_entry(bc_server, bc_connection, "EXPENSICO-jrc-v1"))
    result = connector_for(bc_connection).push(entry, key())
    (line,) = lines_of(bc_server, entry.reference)
    (attachment,) = bc_server.app.sets["attachments"].values()
    assert attachment["parentType"] == "Journal" and attachment["parentId"] == line["id"]
    assert attachment["fileName"] == "receipt.pdf" and attachment["byteSize"] == len(RECEIPT)
    assert not result.warnings
    assert entry.reference in connector_for(bc_connection).find_by_reference([entry.reference])


def test_a_multi_line_journal_gets_one_receipt_on_its_first_line(bc_connection, bc_server):
    entry = with_receipt(split_entry(bc_server, bc_connection, "EXPENSICO-jrc-v2"))
    connector_for(bc_connection).push(entry, key())
    lines = sorted(lines_of(bc_server, entry.reference), key=lambda ln: ln["lineNumber"])
    (attachment,) = bc_server.app.sets["attachments"].values()
    assert len(lines) == 3 and attachment["parentId"] == lines[0]["id"]
    assert dimensions_of(bc_server, lines) == [("DEPARTMENT", "SALES")]


# Posting: a journal batch of the document's own -------------------------------------------------

def test_posting_one_document_never_posts_another_workers_half_made_lines(bc_connection, bc_server):
    conn = set_mode(bc_connection, post=True)
    half, half_key = split_entry(bc_server, conn, "EXPENSICO-half-v1"), key()
    # Worker 1: its lines went in, then BC became unreachable before their dimensions did.
    arm_after(bc_server, "$batch", "reset", count=10, path="$batch")
    with pytest.raises(OutcomeUnknown):
        connector_for(conn).push(half, half_key)
    bc_server.app.clear_faults()
    assert len(bc_server.app.sets["journalLines"]) == 3, "worker 1's lines wait, without dimensions"
    # Worker 2 posts its own document meanwhile.
    whole = testkit.sample_entry(bc_server, conn, "EXPENSICO-whole-v1")
    connector_for(conn).push(whole, key())
    assert posted_numbers(bc_server) == {schema.short_reference(whole.reference)}
    assert len(bc_server.app.sets["journalLines"]) == 3, "worker 1's lines were not posted"
    # Worker 1's retry finishes its document and posts it alone.
    connector_for(conn).push(half, half_key)
    assert posted_numbers(bc_server) == {schema.short_reference(r) for r in (whole.reference, half.reference)}
    assert not bc_server.app.sets["journalLines"]
    journals = [j["code"] for j in bc_server.app.sets["journals"].values()]
    assert journals == ["EXPENSICO"], "posting batches are deleted once posted"


def test_posting_leaves_the_connections_journal_alone(bc_connection, bc_server):
    waiting = testkit.sample_entry(bc_server, bc_connection, "EXPENSICO-wait-v1")
    connector_for(bc_connection).push(waiting, key())            # post off: for the accountant
    conn = set_mode(bc_connection, post=True)
    posted = with_receipt(testkit.sample_entry(bc_server, conn, "EXPENSICO-post-v1"))
    connector_for(conn).push(posted, key())
    assert posted_numbers(bc_server) == {schema.short_reference(posted.reference)}
    assert len(lines_of(bc_server, waiting.reference)) == 1
    (attachment,) = bc_server.app.sets["attachments"].values()
    assert attachment["parentType"] == "Journal", "the receipt went on before posting"


def test_reversal_does_not_post_without_the_post_option(bc_connection, bc_server):
    conn = set_mode(bc_connection, post=True)
    entry = testkit.sample_entry(bc_server, conn, "EXPENSICO-rvp-v1")
    pushed = connector_for(conn).push(entry, key())
    conn = set_mode(conn, post=False)
    connector_for(conn).reverse(pushed.external_id, testkit.reversal_entry(entry), key())
    assert len(bc_server.app.sets["generalLedgerEntries"]) == 2, "the reversing document was not posted"
    number = reversal_number(entry.reference)
    waiting = [ln for ln in bc_server.app.sets["journalLines"].values() if ln["documentNumber"] == number]
    assert waiting and {ln["journalId"] for ln in waiting} == {conn.settings["journal_id"]}, \
        "it waits in the connection's journal"
    assert entry.reference not in connector_for(conn).find_by_reference([entry.reference])
    again = connector_for(conn).reverse(pushed.external_id, testkit.reversal_entry(entry), key())
    assert again.notes == ("already reversed",) and len(bc_server.app.sets["journalLines"]) == len(waiting)


def test_posted_invoice_reversal_leaves_the_credit_memo_in_draft_without_the_post_option(bc_connection, bc_server):
    conn = set_mode(bc_connection, export_mode="purchase_invoice", post=True)
    entry = vendor_entry(bc_server, conn, "EXPENSICO-rvi-v1")
    pushed = connector_for(conn).push(entry, key())
    conn = set_mode(conn, post=False)
    connector_for(conn).reverse(pushed.external_id, testkit.reversal_entry(entry), key())
    (memo,) = bc_server.app.sets["purchaseCreditMemos"].values()
    assert memo["status"] == "Draft"
    assert bc_server.app.sets["purchaseInvoices"][pushed.external_id[3:]]["status"] == "Open"
    assert entry.reference not in connector_for(conn).find_by_reference([entry.reference])


def test_a_posting_whose_answer_was_ambiguous_is_completed_not_repeated(bc_connection, bc_server):
    conn = set_mode(bc_connection, post=True)
    entry = testkit.sample_entry(bc_server, conn, "EXPENSICO-pst-v1")
    bc_server.app.inject("server_error", status=504, count=1, path="Microsoft.NAV.post")
    result = connector_for(conn).push(entry, key())
    assert result.replayed and posted_numbers(bc_server) == {schema.short_reference(entry.reference)}
    assert len(bc_server.app.sets["generalLedgerEntries"]) == 2
    assert not bc_server.app.sets["journalLines"] and len(bc_server.app.sets["journals"]) == 1


# Half-made documents ---------------------------------------------------------------------------

def test_lines_whose_dimensions_could_not_be_added_are_taken_out(bc_connection, bc_server):
    entry, k = split_entry(bc_server, bc_connection, "EXPENSICO-dimfail-v1"), key()
    arm_after(bc_server, "$batch", "rate_limit", count=3, path="$batch")
    with pytest.raises(RateLimited):
        connector_for(bc_connection).push(entry, k)
    assert not bc_server.app.sets["journalLines"], "no document without its dimensions"
    assert entry.reference not in connector_for(bc_connection).find_by_reference([entry.reference])
    result = connector_for(bc_connection).push(entry, k)
    assert not result.replayed
    lines = lines_of(bc_server, entry.reference)
    assert len(lines) == 3 and dimensions_of(bc_server, lines) == [("DEPARTMENT", "SALES")]


def test_an_invoice_header_whose_lines_could_not_be_added_is_taken_out(bc_connection, bc_server):
    conn = set_mode(bc_connection, export_mode="purchase_invoice")
    entry, k = vendor_entry(bc_server, conn, "EXPENSICO-pifail-v1",
                            base=split_entry(bc_server, conn, "EXPENSICO-pifail-v1")), key()
    bc_server.app.inject("server_error", status=503, retry_after="600", count=1, path="$batch")
    with pytest.raises(RateLimited):
        connector_for(conn).push(entry, k)
    assert not bc_server.app.sets["purchaseInvoices"], "no invoice header without its lines"
    result = connector_for(conn).push(entry, k)
    assert not result.replayed
    invoice = bc_server.app.sets["purchaseInvoices"][result.external_id[3:]]
    assert invoice["totalAmountIncludingTax"] == 115.5
    assert len(bc_server.app.sets["purchaseInvoiceLines"]) == 2


def test_a_half_made_document_left_by_a_lost_answer_is_not_reported_and_is_rebuilt(bc_connection, bc_server):
    entry, k = with_receipt(split_entry(bc_server, bc_connection, "EXPENSICO-lost-v1")), key()
    arm_after(bc_server, "$batch", "reset", count=10, path="$batch")
    with pytest.raises(OutcomeUnknown):
        connector_for(bc_connection).push(entry, k)
    bc_server.app.clear_faults()
    assert len(bc_server.app.sets["journalLines"]) == 3, "after OutcomeUnknown nothing is taken out"
    assert len(bc_server.app.sets["attachments"]) == 1
    # The export engine reconciles by reference first: the half-made document is not there.
    assert entry.reference not in connector_for(bc_connection).find_by_reference([entry.reference])
    result = connector_for(bc_connection).push(entry, k)
    assert not result.replayed
    lines = lines_of(bc_server, entry.reference)
    assert len(lines) == 3 and len(bc_server.app.sets["journalLines"]) == 3, "the pieces were cleared"
    assert dimensions_of(bc_server, lines) == [("DEPARTMENT", "SALES")]
    (attachment,) = bc_server.app.sets["attachments"].values()
    assert attachment["parentId"] in {ln["id"] for ln in lines}


def test_a_half_made_invoice_is_not_reported_and_is_rebuilt(bc_connection, bc_server):
    conn = set_mode(bc_connection, export_mode="purchase_invoice")
    entry, k = with_receipt(vendor_entry(bc_server, conn, "EXPENSICO-lostpi-v1")), key()
    arm_after(bc_server, "attachmentContent", "reset", count=10, path="$batch")
    with pytest.raises(OutcomeUnknown):
        connector_for(conn).push(entry, k)
    bc_server.app.clear_faults()
    assert len(bc_server.app.sets["purchaseInvoices"]) == 1
    assert entry.reference not in connector_for(conn).find_by_reference([entry.reference])
    result = connector_for(conn).push(entry, k)
    (invoice,) = bc_server.app.sets["purchaseInvoices"].values()
    assert result.external_id == f"PI:{invoice['id']}"
    assert invoice["vendorInvoiceNumber"] == schema.short_reference(entry.reference)
    (attachment,) = bc_server.app.sets["attachments"].values()
    assert attachment["parentId"] == invoice["id"]
