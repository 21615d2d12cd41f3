"""The Business Central connector against its HTTPS sandbox, beyond the shared contract suite."""

import uuid
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from connectors.base import CatalogKind, connector_for
from connectors.business_central import client as bc_client
from connectors.business_central import schema
from connectors.business_central.sandbox import testkit
from connectors.entry import AccountingEntry, Attachment
from connectors.errors import AuthExpired, Permanent
from connectors.limits import ClientRateLimited
from connectors.models import CallLog, Connection

from .helpers import key, set_mode, split_entry, vendor_entry

pytestmark = pytest.mark.django_db


def test_check_remembers_company_and_journal(bc_connection, bc_server):
    assert bc_connection.settings["company_id"] == bc_server.app.company["id"]
    journal = bc_server.app.sets["journals"][bc_connection.settings["journal_id"]]
    assert journal["code"] == "EXPENSICO" and journal["templateDisplayName"] == "GENERAL"
    assert bc_connection.status == Connection.Status.CONNECTED


def test_setup_created_the_claims_account_through_the_chart_of_accounts_page(bc_connection, bc_server):
    created = bc_server.app.sets["accounts"][bc_connection.employee_claims_account]
    assert created["displayName"] == "Expensico – Employee Claims" and created["category"] == "Liabilities"
    item = next(i for i in connector_for(bc_connection).catalog(CatalogKind.ACCOUNTS)
                if i.remote_id == created["id"])
    assert item.classification == "LIABILITY" and item.extra["sub_classification"] == "CURRENT_LIABILITY"


def test_catalog_dimensions_use_the_mapping_kind(bc_connection):
    items = connector_for(bc_connection).catalog(CatalogKind.DIMENSIONS)
    assert {i.classification for i in items} == {"dimension:DEPARTMENT", "dimension:PROJECT", "dimension:AREA"}
    # One request for every dimension and its values ($expand), not one per dimension.
    calls = CallLog.objects.filter(connection=bc_connection, path__contains="dimensions")
    assert calls.count() == 1


def test_token_is_cached_per_tenant_in_the_process(bc_connection, bc_server):
    issued = len(bc_server.app.tokens)
    for _ in range(3):
        connector_for(bc_connection).check()
    assert len(bc_server.app.tokens) == issued


def test_multi_line_entry_goes_in_one_snapshot_batch_with_dimensions(bc_connection, bc_server):
    entry = split_entry(bc_server, bc_connection, "EXPENSICO-split-v1")
    result = connector_for(bc_connection).push(entry, key())
    assert result.calls == 2, "one $batch for the lines, one for their dimensions"
    short = schema.short_reference(entry.reference)
    lines = [ln for ln in bc_server.app.sets["journalLines"].values() if ln["documentNumber"] == short]
    assert sorted(ln["amount"] for ln in lines) == [-115.5, 35.5, 80.0]
    dims = [d for d in bc_server.app.sets["dimensionSetLines"].values() if d["parentType"] == "Journal Line"]
    assert [(d["code"], d["valueCode"]) for d in dims] == [("DEPARTMENT", "SALES")]
    found = connector_for(bc_connection).find_by_reference([entry.reference])
    assert Decimal(found[entry.reference].amount) == Decimal("115.50")


def test_failed_operation_rolls_the_whole_batch_back(bc_connection, bc_server):
    entry = split_entry(bc_server, bc_connection, "EXPENSICO-bad-v1", bad_second=True)
    with pytest.raises(Permanent) as exc:
        connector_for(bc_connection).push(entry, key())
    assert exc.value.field == "accountId" and exc.value.code == "Internal_InvalidTableRelation"
    assert not bc_server.app.sets["journalLines"], "Isolation: snapshot left nothing behind"


def test_posting_moves_lines_to_the_ledger_and_reversal_posts_a_reversing_document(bc_connection, bc_server):
    conn = set_mode(bc_connection, post=True)
    entry = testkit.sample_entry(bc_server, conn, "EXPENSICO-posted-v1")
    pushed = connector_for(conn).push(entry, key())
    assert not bc_server.app.sets["journalLines"]
    found = connector_for(conn).find_by_reference([entry.reference])[entry.reference]
    assert found.status == "posted" and Decimal(found.amount) == Decimal("115.00")
    connector_for(conn).reverse(pushed.external_id, testkit.reversal_entry(entry), key())
    entries = bc_server.app.sets["generalLedgerEntries"].values()
    assert sum(Decimal(str(e["debitAmount"])) - Decimal(str(e["creditAmount"])) for e in entries) == 0
    assert entry.reference not in connector_for(conn).find_by_reference([entry.reference])
    again = connector_for(conn).reverse(pushed.external_id, testkit.reversal_entry(entry), key())
    assert again.notes == ("already reversed",) and not again.warnings
    assert len(bc_server.app.sets["generalLedgerEntries"]) == 4


def test_purchase_invoice_mode_creates_a_draft_bill_and_reversal_deletes_it(bc_connection, bc_server):
    conn = set_mode(bc_connection, export_mode="purchase_invoice")
    entry = vendor_entry(bc_server, conn, "EXPENSICO-bill-v1")
    pushed = connector_for(conn).push(entry, key())
    assert pushed.external_id.startswith("PI:") and pushed.calls == 1, "header and line in one deep insert"
    invoice = bc_server.app.sets["purchaseInvoices"][pushed.external_id[3:]]
    assert invoice["status"] == "Draft" and invoice["totalAmountIncludingTax"] == 115.0
    assert invoice["vendorInvoiceNumber"] == schema.short_reference(entry.reference)
    found = connector_for(conn).find_by_reference([entry.reference])[entry.reference]
    assert found.external_id == pushed.external_id
    connector_for(conn).reverse(pushed.external_id, testkit.reversal_entry(entry), key())
    assert not bc_server.app.sets["purchaseInvoices"] and not bc_server.app.sets["purchaseInvoiceLines"]


def test_card_spend_stays_a_journal_in_purchase_invoice_mode(bc_connection, bc_server):
    """Paid from the Employees Balance, a card expense is owed to nobody: no payable is made."""
    from dataclasses import replace

    conn = set_mode(bc_connection, export_mode="purchase_invoice")
    claim = vendor_entry(bc_server, conn, "EXPENSICO-card-v1")
    card = replace(claim, lines=tuple(replace(ln, account=conn.employees_balance_account)
                                      if ln.role.name == "PAID_THROUGH" else ln for ln in claim.lines))
    pushed = connector_for(conn).push(card, key())
    assert pushed.external_id.startswith("GJ:") and not bc_server.app.sets["purchaseInvoices"]
    assert connector_for(conn).find_by_reference([card.reference])[card.reference].external_id == pushed.external_id


def test_posted_purchase_invoice_is_undone_by_a_posted_credit_memo(bc_connection, bc_server):
    conn = set_mode(bc_connection, export_mode="purchase_invoice", post=True)
    entry = vendor_entry(bc_server, conn, "EXPENSICO-bill-v2")
    pushed = connector_for(conn).push(entry, key())
    invoice = bc_server.app.sets["purchaseInvoices"][pushed.external_id[3:]]
    assert invoice["status"] == "Open"
    done = connector_for(conn).reverse(pushed.external_id, testkit.reversal_entry(entry), key())
    (memo,) = bc_server.app.sets["purchaseCreditMemos"].values()
    assert done.external_id == f"PCM:{memo['id']}" and memo["invoiceId"] == invoice["id"] and memo["status"] == "Open"
    assert memo["totalAmountIncludingTax"] == invoice["totalAmountIncludingTax"]
    entries = bc_server.app.sets["generalLedgerEntries"].values()
    assert sum(Decimal(str(e["debitAmount"])) - Decimal(str(e["creditAmount"])) for e in entries) == 0
    assert entry.reference not in connector_for(conn).find_by_reference([entry.reference])
    again = connector_for(conn).reverse(pushed.external_id, testkit.reversal_entry(entry), key())
    assert again.notes == ("already reversed",) and len(bc_server.app.sets["purchaseCreditMemos"]) == 1


def test_receipt_is_attached_in_two_calls_before_the_invoice_is_numbered(bc_connection, bc_server):
    path = default_storage.save(f"receipts/{uuid.uuid4()}.pdf", ContentFile(b"%PDF-1.7 receipt"))
    conn = set_mode(bc_connection, export_mode="purchase_invoice")
    base = vendor_entry(bc_server, conn, "EXPENSICO-att-v1")
    entry = AccountingEntry(kind=base.kind, reference=base.reference, date=base.date, currency=base.currency,
                            lines=base.lines, contact=base.contact,
                            attachments=(Attachment("r1", "receipt.pdf", "application/pdf", "0" * 64, 16, path),))
    result = connector_for(conn).push(entry, key())
    (attachment,) = bc_server.app.sets["attachments"].values()
    assert attachment["parentId"] == result.external_id[3:] and attachment["byteSize"] == 16
    assert result.calls == 4, "invoice (pending number), attachment, its content, the renaming"
    assert testkit.held(bc_server, entry.reference)[0]["id"] == result.external_id[3:]


def test_the_five_minute_window_is_enforced_before_sending(bc_connection, bc_server):
    conn = set_mode(bc_connection, window_limit=CallLog.objects.filter(connection=bc_connection).count())
    seen = bc_server.app.requests_seen
    with pytest.raises(ClientRateLimited) as exc:
        connector_for(conn).catalog(CatalogKind.CURRENCIES)
    assert exc.value.retry_after > 200
    assert bc_server.app.requests_seen == seen, "nothing was sent"


def test_stale_etag_is_rejected(bc_connection, bc_server):
    entry = testkit.sample_entry(bc_server, bc_connection, "EXPENSICO-etag-v1")
    connector_for(bc_connection).push(entry, key())
    (line,) = bc_server.app.sets["journalLines"].values()
    client = bc_client.BusinessCentralClient(bc_connection)
    path = client.company_path(f"journals({line['journalId']})/journalLines({line['id']})")
    with pytest.raises(Permanent) as exc:
        client.request("PATCH", path, json_body={"description": "x"}, headers={"If-Match": 'W/"stale"'})
    assert exc.value.status == 412
    fresh = client.request("GET", path).body["@odata.etag"]
    assert client.request("PATCH", path, json_body={"description": "edited"}, headers={"If-Match": fresh}).status == 200


def test_revoked_credentials_expire_the_connection_at_the_token_endpoint(bc_connection, bc_server):
    bc_client._apps.clear()       # a fresh worker process: no cached token
    testkit.revoke(bc_server)
    with pytest.raises(AuthExpired):
        connector_for(bc_connection).check()
    bc_connection.refresh_from_db()
    assert bc_connection.status == Connection.Status.EXPIRED


def test_check_learns_the_local_currency(bc_connection):
    assert bc_connection.settings["lcy"] == "GBP"


def test_foreign_journal_without_a_usable_rate_is_permanent(bc_connection, bc_server):
    base = testkit.sample_entry(bc_server, bc_connection, "EXPENSICO-eur-v1")
    foreign = AccountingEntry(kind=base.kind, reference=base.reference, date=base.date, currency="EUR",
                              lines=base.lines, exchange_rate=Decimal("4.35"))   # EUR→SAR, not EUR→GBP
    with pytest.raises(Permanent) as exc:
        connector_for(bc_connection).push(foreign, key())
    assert exc.value.field == "exchange_rate"
    assert not bc_server.app.sets["journalLines"]


def test_preview_shows_the_payload_without_sending(bc_connection, bc_server):
    import json
    seen = bc_server.app.requests_seen
    preview = connector_for(bc_connection).preview(testkit.sample_entry(bc_server, bc_connection, "EXPENSICO-pv-v1"))
    assert bc_server.app.requests_seen == seen
    assert preview["mode"] == "journal" and preview["journalLines"][0]["amount"] == "115.00"
    json.dumps(preview)


def test_a_token_refresh_resends_inside_the_place_already_held(bc_connection, bc_server, monkeypatch):
    """BC forgets our token (401): the stack fetches a new one and re-sends once. With four of the
    five places taken by other workers, the re-send must use this request's own place."""
    from connectors.limits import concurrency_slot

    client = bc_client.BusinessCentralClient(bc_connection)
    client.request("GET", "companies")                       # a token is cached
    with bc_server.app.lock:
        bc_server.app.tokens.clear()                          # …and BC no longer knows it
    others = [concurrency_slot(bc_connection, limit=bc_client.CONCURRENT, lease=60, wait_max=0) for _ in range(4)]
    for place in others:
        place.__enter__()
    monkeypatch.setattr(bc_client, "CONCURRENCY_WAIT", 0)
    try:
        # One attempt, no retries around it: a second place would be refused at once.
        resp = client._send("GET", "companies", params=None, json_body=None, files=None, data=None, headers=None,
                            idempotency_key="", timeout=client.timeout, attempt=1)
        assert resp.status == 200
    finally:
        for place in others:
            place.__exit__(None, None, None)


def test_a_list_longer_than_the_page_cap_is_a_permanent_error_a_person_sees(bc_connection, monkeypatch):
    monkeypatch.setattr(bc_client, "MAX_PAGES", 0)
    with pytest.raises(Permanent) as exc:
        connector_for(bc_connection).catalog(CatalogKind.ACCOUNTS)
    assert exc.value.code == "too_many_pages"
