"""The Apideck connector against its sandbox: what the contract suite does not cover."""

import uuid
from decimal import Decimal

import pytest

from connectors.apideck.sandbox import testkit
from connectors.apideck.schema import encode_account_id
from connectors.base import CatalogKind, connector_for
from connectors.entry import AccountingEntry, EntryLine
from connectors.errors import OutcomeUnknown, Permanent
from connectors.models import CallLog

pytestmark = pytest.mark.django_db


def key():
    return str(uuid.uuid4())


def test_catalog_codes_are_readable_and_dimensions_are_worktags(apideck_connection):
    connector = connector_for(apideck_connection)
    accounts = {a.remote_id: a for a in connector.catalog(CatalogKind.ACCOUNTS)}
    travel = accounts[encode_account_id("6100", "Standard")]
    assert travel.code == "Standard/6100" and travel.classification == "EXPENSE"
    assert accounts[encode_account_id("6400", "Corporate")].code == "Corporate/6400"
    dims = connector.catalog(CatalogKind.DIMENSIONS)
    assert {"worktag:Cost_Center_Reference_ID", "worktag:Spend_Category_ID"} <= {d.classification for d in dims}


def test_setup_accounts_are_offered_by_the_admin_setup_filter(apideck_connection):
    accounts = connector_for(apideck_connection).catalog(CatalogKind.ACCOUNTS)
    claims = [a for a in accounts if a.classification == "LIABILITY"
              and a.extra.get("sub_classification") == "CURRENT_LIABILITY"]
    assert apideck_connection.employee_claims_account in {a.remote_id for a in claims}


def test_missing_cost_centre_is_a_review_item_unless_drafts_are_accepted(apideck_connection, apideck_server):
    entry = testkit.sample_entry(apideck_server, apideck_connection, "EXPENSICO-d1-v1")
    bare = AccountingEntry(kind=entry.kind, reference=entry.reference, date=entry.date, currency=entry.currency,
                           lines=tuple(EntryLine(role=x.role, account=x.account, debit=x.debit, credit=x.credit)
                                       for x in entry.lines))
    with pytest.raises(Permanent) as exc:
        connector_for(apideck_connection).push(bare, key())
    assert exc.value.code == "would_stay_draft" and exc.value.field == "line_items.0.worktags"
    assert not apideck_server.app.journal_entries, "nothing was sent"
    apideck_connection.settings = {**apideck_connection.settings, "allow_drafts": True}
    result = connector_for(apideck_connection).push(bare, key())
    assert result.warnings and "draft" in result.warnings[0]
    assert apideck_server.app.journal_entries[result.external_id]["status"] == "draft"


def test_resend_with_the_same_key_looks_up_first_and_sends_nothing(apideck_connection, apideck_server):
    entry = testkit.sample_entry(apideck_server, apideck_connection, "EXPENSICO-r1-v1")
    k = key()
    first = connector_for(apideck_connection).push(entry, k)
    posts_before = CallLog.objects.filter(method="POST").count()
    second = connector_for(apideck_connection).push(entry, k)
    assert second.replayed and second.external_id == first.external_id
    assert CallLog.objects.filter(method="POST").count() == posts_before
    assert CallLog.objects.filter(method="POST", idempotency_key=k).count() == 1


def test_5xx_is_looked_up_before_the_resend(apideck_connection, apideck_server):
    entry = testkit.sample_entry(apideck_server, apideck_connection, "EXPENSICO-r2-v1")
    apideck_server.app.inject("server_error", count=1, method="POST", status=502)
    result = connector_for(apideck_connection).push(entry, key())
    assert result.external_id and len(testkit.held(apideck_server, "EXPENSICO-r2-v1")) == 1
    calls = list(CallLog.objects.order_by("id").values_list("method", "status"))[-3:]
    assert calls == [("POST", 502), ("GET", 200), ("POST", 201)]


def test_lost_answer_not_found_stays_unknown(apideck_connection, apideck_server, monkeypatch):
    """If the lookup cannot see it, nothing is re-sent inline: the engine decides later."""
    entry = testkit.sample_entry(apideck_server, apideck_connection, "EXPENSICO-r3-v1")
    apideck_server.app.inject("reset", count=1, method="POST")   # dropped before it was handled
    with pytest.raises(OutcomeUnknown):
        connector_for(apideck_connection).push(entry, key())
    assert not testkit.held(apideck_server, "EXPENSICO-r3-v1")


def test_expense_mode_pushes_an_expense_and_reverses_with_a_journal(apideck_server, org):
    conn = testkit.connect(apideck_server, org, name="expense mode", document="expense")
    entry = testkit.sample_entry(apideck_server, conn, "EXPENSICO-x1-v1")
    pushed = connector_for(conn).push(entry, key())
    expense = apideck_server.app.expenses[pushed.external_id]
    assert expense["account"]["id"] == conn.employee_claims_account and expense["total_amount"] == 115.0
    connector_for(conn).reverse(pushed.external_id, testkit.reversal_entry(entry), key())
    [reversal] = testkit.held(apideck_server, "EXPENSICO-x1-v1-R")
    assert Decimal(str(reversal["line_items"][0]["total_amount"])) == Decimal("115.00")


def test_expense_mode_refuses_an_unverifiable_resend(apideck_server, org):
    conn = testkit.connect(apideck_server, org, name="expense mode", document="expense")
    entry = testkit.sample_entry(apideck_server, conn, "EXPENSICO-x2-v1")
    k = key()
    connector_for(conn).push(entry, k)
    with pytest.raises(Permanent) as exc:
        connector_for(conn).push(entry, k)
    assert exc.value.code == "unverifiable_resend"
    assert len(testkit.held(apideck_server, "EXPENSICO-x2-v1")) == 1


def test_reverse_voids_a_posted_entry_and_is_repeatable(apideck_connection, apideck_server):
    entry = testkit.sample_entry(apideck_server, apideck_connection, "EXPENSICO-v1-v1")
    pushed = connector_for(apideck_connection).push(entry, key())
    connector_for(apideck_connection).reverse(pushed.external_id, testkit.reversal_entry(entry), key())
    assert apideck_server.app.journal_entries[pushed.external_id]["status"] == "voided"
    deletes = CallLog.objects.filter(method="DELETE").count()
    connector_for(apideck_connection).reverse(pushed.external_id, testkit.reversal_entry(entry), key())
    assert CallLog.objects.filter(method="DELETE").count() == deletes


def test_mapping_catalog_stores_readable_codes_and_worktag_kinds(apideck_connection):
    from mappings.models import RemoteCatalogItem
    from mappings.services import catalog_refresh

    catalog_refresh(connection=apideck_connection)
    travel = RemoteCatalogItem.objects.get(connection=apideck_connection, kind="accounts",
                                           remote_id=encode_account_id("6100", "Standard"))
    assert (travel.code, travel.name) == ("Standard/6100", "Travel")
    cost_centre = RemoteCatalogItem.objects.get(connection=apideck_connection, kind="dimensions", remote_id="CC100")
    assert cost_centre.classification == "worktag:Cost_Center_Reference_ID"
