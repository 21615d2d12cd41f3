"""Business Central read-back of posted documents (G/L entries): our reference in BC's 20-character
form over a date range, mapped back when read by reference; reversed by hand reads cancelled;
purchase invoices, draft or posted, read back as ours."""

import uuid
from datetime import date

import pytest

from connectors.base import connector_for
from connectors.business_central.sandbox import testkit

from .helpers import set_mode, vendor_entry

pytestmark = pytest.mark.django_db


@pytest.fixture
def posting(bc_server, org):
    return testkit.connect(bc_server, org, name="BC posting", post=True)


def test_posted_documents_read_back_from_the_ledger(bc_server, posting):
    connector = connector_for(posting)
    entry = testkit.sample_entry(bc_server, posting, "EXPENSICO-p1-v1")
    pushed = connector.push(entry, str(uuid.uuid4()))
    [by_date] = [d for p in connector.read_back(date_from=date(2026, 11, 1), date_to=date(2026, 11, 30))
                 for d in p.documents]
    assert by_date.reference == connector.vendor_reference(entry.reference) != entry.reference
    assert (by_date.external_id, by_date.status, by_date.amount) == (pushed.external_id, "posted", entry.gross)
    [by_reference] = [d for p in connector.read_back(references=[entry.reference]) for d in p.documents]
    assert by_reference.reference == entry.reference


def test_a_posted_document_reversed_by_hand_reads_cancelled(bc_server, posting):
    connector = connector_for(posting)
    pushed = connector.push(testkit.sample_entry(bc_server, posting, "EXPENSICO-p2-v1"), str(uuid.uuid4()))
    testkit.tamper_delete(bc_server, posting, pushed.external_id)
    [doc] = [d for p in connector.read_back(references=["EXPENSICO-p2-v1"]) for d in p.documents]
    assert doc.status == "cancelled" and doc.amount == 0


@pytest.mark.parametrize("post", [False, True])
def test_purchase_invoices_read_back_as_ours(bc_server, bc_connection, post):
    conn = set_mode(bc_connection, export_mode="purchase_invoice", post=post)
    entry = vendor_entry(bc_server, conn, "EXPENSICO-pi1-v1")
    pushed = connector_for(conn).push(entry, str(uuid.uuid4()))
    docs = [d for p in connector_for(conn).read_back(date_from=date(2026, 11, 1), date_to=date(2026, 11, 30))
            for d in p.documents]
    [doc] = [d for d in docs if d.external_id == pushed.external_id]
    assert doc.status == ("posted" if post else "draft") and doc.amount == entry.gross
    assert doc.reference in (entry.reference, connector_for(conn).vendor_reference(entry.reference))
    expense = entry.lines[0]
    assert any(ln.account == expense.account and ln.debit == expense.debit for ln in doc.lines)
    assert len(docs) == 1, "a posted invoice's G/L entries are that invoice, not a document of someone else's"
