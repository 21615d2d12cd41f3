"""The Workday connector against its sandbox: what the contract suite does not cover."""

import uuid
from datetime import date
from decimal import Decimal

import pytest

from connectors.base import AccountPurpose, AccountSpec, CatalogKind, connector_for
from connectors.entry import AccountingEntry, EntryKind, EntryLine, LineRole
from connectors.errors import Permanent
from connectors.models import CallLog
from connectors.workday.sandbox import testkit

pytestmark = pytest.mark.django_db


def key():
    return str(uuid.uuid4())


def test_setup_created_the_three_accounts_in_the_account_set(workday_connection, workday_server):
    accounts = workday_server.app.account_sets["Standard"]["accounts"]
    claims = workday_connection.employee_claims_account
    assert claims.startswith("Standard/") and accounts[claims.split("/")[1]]["type"] == "Liability"
    assert accounts[workday_connection.funding_bank_account.split("/")[1]]["type"] == "Cash"
    # Put_Account_Set kept the rest of the chart.
    assert {"6100", "6200", "1000"} <= set(accounts)


def test_catalogs_show_worktags_and_readable_account_ids(workday_connection):
    connector = connector_for(workday_connection)
    dims = connector.catalog(CatalogKind.DIMENSIONS)
    kinds = {d.classification for d in dims}
    assert {"worktag:Cost_Center_Reference_ID", "worktag:Spend_Category_ID", "worktag:Project_ID",
            "worktag:Region_Reference_ID"} <= kinds
    accounts = {a.remote_id: a for a in connector.catalog(CatalogKind.ACCOUNTS)}
    assert accounts["Standard/6100"].classification == "EXPENSE"
    assert accounts["Standard/6900"].active is False, "retired accounts are shown inactive"
    assert {c.code for c in connector.catalog(CatalogKind.CURRENCIES)} >= {"SAR", "KWD"}


def test_push_posts_a_balanced_journal_with_worktags(workday_connection, workday_server):
    entry = testkit.sample_entry(workday_server, workday_connection, "EXPENSICO-w1-v1")
    result = connector_for(workday_connection).push(entry, key())
    [journal] = testkit.held(workday_server, "EXPENSICO-w1-v1")
    assert journal["wid"] == result.external_id and journal["status"] == "Posted"
    assert journal["total_debits"] == journal["total_credits"] == "115.00"
    assert all(line["worktags"]["Cost_Center_Reference_ID"] == "CC100" for line in journal["lines"])
    assert journal["lines"][0]["worktags"]["Spend_Category_ID"] == "SC_Travel"
    assert result.calls == 1


def test_draft_mode_warns(workday_connection, workday_server):
    workday_connection.settings = {**workday_connection.settings, "submit": False}
    entry = testkit.sample_entry(workday_server, workday_connection, "EXPENSICO-w2-v1")
    result = connector_for(workday_connection).push(entry, key())
    assert result.warnings and testkit.held(workday_server, "EXPENSICO-w2-v1")[0]["status"] == "Draft"
    # A draft is canceled, not reversed.
    connector_for(workday_connection).reverse(result.external_id, testkit.reversal_entry(entry), key())
    assert workday_server.app.journals[result.external_id]["status"] == "Canceled"
    assert not connector_for(workday_connection).find_by_reference(["EXPENSICO-w2-v1"])


def test_posted_journal_is_reversed_by_a_reversal_journal(workday_connection, workday_server):
    entry = testkit.sample_entry(workday_server, workday_connection, "EXPENSICO-w3-v1")
    pushed = connector_for(workday_connection).push(entry, key())
    reversal = connector_for(workday_connection).reverse(pushed.external_id, testkit.reversal_entry(entry), key())
    [rev] = testkit.held(workday_server, "EXPENSICO-w3-v1-R")
    assert rev["wid"] == reversal.external_id
    assert rev["lines"][0]["credit"] == "115.00" and rev["lines"][1]["debit"] == "115.00"
    assert workday_server.app.journals[pushed.external_id]["status"] == "Posted", "the original stays in the ledger"


def test_find_by_reference_batches_and_survives_unknown_ids(workday_connection, workday_server):
    connector = connector_for(workday_connection)
    refs = [f"EXPENSICO-b{i}-v1" for i in range(3)]
    for ref in refs:
        connector.push(testkit.sample_entry(workday_server, workday_connection, ref), key())
    CallLog.objects.all().delete()
    found = connector_for(workday_connection).find_by_reference(refs)
    assert set(found) == set(refs)
    # One Get_Journals for the references and their reversals, whose fault lists every unknown id;
    # one more for the known ones.
    assert CallLog.objects.count() == 2
    with_missing = connector_for(workday_connection).find_by_reference(refs + ["EXPENSICO-nope-v1", "EXPENSICO-no2-v1"])
    assert set(with_missing) == set(refs)
    assert CallLog.objects.count() == 2 + 2, "unknown ids cost one extra request, not one each"
    assert Decimal(found[refs[0]].amount) == Decimal("115.00")


def test_mapping_gap_is_permanent_and_names_the_field(workday_connection, workday_server):
    entry = AccountingEntry(kind=EntryKind.EXPENSE, reference="EXPENSICO-w4-v1", date=date(2026, 11, 1),
                            currency="SAR", lines=(
                                EntryLine(role=LineRole.EXPENSE, account="Standard/6100", debit=Decimal("5.00")),
                                EntryLine(role=LineRole.PAID_THROUGH, account="Standard/2100", credit=Decimal("5.00"))))
    with pytest.raises(Permanent) as exc:
        connector_for(workday_connection).push(entry, key())
    assert exc.value.field == "dimensions.Cost_Center_Reference_ID"
    assert not CallLog.objects.filter(method="POST", path__contains="Financial_Management",
                                      request_body__contains="w4").exists(), "nothing was sent"


def test_ensure_account_finds_by_name(workday_connection):
    connector = connector_for(workday_connection)
    spec = AccountSpec(purpose=AccountPurpose.EMPLOYEE_CLAIMS, name="Expensico – Employee Claims")
    assert connector.ensure_account(spec).remote_id == workday_connection.employee_claims_account
