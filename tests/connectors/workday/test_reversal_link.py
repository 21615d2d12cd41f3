"""Issue 18 item 1b: a Workday reversal is linked to its original by Workday's own linkage
(Unpost-Reverse_Accounting_Journal → Cancel_Reverses_ / Cancel_Reversed_By_Journal_Entry_Reference),
read back from the sandbox, and shown on both export records (admin and API)."""

import dataclasses
import uuid
from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from connectors.base import connector_for
from connectors.workday.sandbox import testkit
from expensico_sync.core.roles import Role
from expensico_sync.core.services import api_key_create
from exports.models import ExportRecord
from exports.transitions import Status
from tests.exports.conftest import approve, cancel, expense

from .test_e2e import books, live_org, sandbox, work  # noqa: F401  (fixtures used by name)

NOVEMBER = (date(2026, 11, 1), date(2026, 11, 30))


def key() -> str:
    return str(uuid.uuid4())


def by_reference(conn) -> dict:
    return {doc.reference: doc for page in connector_for(conn).read_back(date_from=NOVEMBER[0], date_to=NOVEMBER[1])
            for doc in page.documents}


@pytest.mark.django_db
def test_a_posted_journal_is_reversed_by_workday_and_both_copies_name_each_other(workday_connection, workday_server):
    conn, server = workday_connection, workday_server
    entry = testkit.sample_entry(server, conn, "EXPENSICO-lk1-v1")
    original = connector_for(conn).push(entry, key()).external_id
    result = connector_for(conn).reverse(original, testkit.reversal_entry(entry), key())
    assert "Cancel_Reverses_Journal_Entry_Reference" in result.notes[0]

    docs = by_reference(conn)
    ours, theirs = docs["EXPENSICO-lk1-v1"], docs["EXPENSICO-lk1-v1-R"]
    assert (theirs.external_id, theirs.status) == (result.external_id, "posted")
    assert ours.raw["reversed_by"] == theirs.external_id and theirs.raw["reverses"] == ours.external_id
    assert [(ln.account, ln.debit, ln.credit) for ln in theirs.lines] == [
        (ln.account, ln.credit, ln.debit) for ln in ours.lines]
    assert not [j for j in server.app.documents() if j["journal_id"] == "EXPENSICO-lk1-v1-R"], \
        "no journal of ours: Workday made the reversal"

    [copy] = [d for page in connector_for(conn).read_back(references=["EXPENSICO-lk1-v1-R"]) for d in page.documents
              if d.reference == "EXPENSICO-lk1-v1-R"]
    assert copy.external_id == result.external_id, "verification reads the reversal Workday made"
    found = connector_for(conn).find_by_reference(["EXPENSICO-lk1-v1", "EXPENSICO-lk1-v1-R"])
    assert set(found) == {"EXPENSICO-lk1-v1-R"} and found["EXPENSICO-lk1-v1-R"].external_id == result.external_id
    again = connector_for(conn).reverse(original, testkit.reversal_entry(entry), key())
    assert again.external_id == result.external_id
    assert len(testkit.held(server, "EXPENSICO-lk1-v1-R")) == 1, "reversing twice reverses once"


@pytest.mark.django_db
def test_a_closed_original_period_falls_back_to_our_dated_reversal_journal(workday_connection, workday_server):
    conn, server = workday_connection, workday_server
    entry = testkit.sample_entry(server, conn, "EXPENSICO-lk2-v1")
    original = connector_for(conn).push(entry, key()).external_id
    testkit.lock_period(server, conn, NOVEMBER[1])
    reversal = testkit.reversal_entry(entry)
    result = connector_for(conn).reverse(original, dataclasses.replace(reversal, date=date(2026, 12, 2)), key())
    [journal] = [j for j in server.app.documents() if j["journal_id"] == "EXPENSICO-lk2-v1-R"]
    assert journal["wid"] == result.external_id and journal["accounting_date"] == "2026-12-02"
    assert "by name" in result.notes[0]


@pytest.mark.django_db(transaction=True)
def test_both_export_records_show_the_link_in_the_admin_and_the_api(live_org, books, sandbox, client):  # noqa: F811
    approve(live_org, expense("exp_9", dimensions={"cost_center": "CC-100"}))
    work()
    cancel(live_org, "exp_9")
    work()
    original = ExportRecord.objects.get(kind="expense")
    reversal = ExportRecord.objects.get(kind="reversal")
    assert (original.status, reversal.status) == (Status.EXPORTED, Status.EXPORTED)
    [journal] = testkit.held(sandbox, "EXPENSICO-exp_9-v1-R")
    assert journal["reverses"] == original.external_id and reversal.external_id == journal["wid"]

    _, api_key = api_key_create(organization=live_org, role=Role.FINANCE_ADMIN, name="erp")
    headers = {"HTTP_AUTHORIZATION": f"Api-Key {api_key}"}
    on_original = client.get(f"/api/v1/accounting-exports/{original.pk}", **headers).json()["reversal_link"]
    on_reversal = client.get(f"/api/v1/accounting-exports/{reversal.pk}", **headers).json()["reversal_link"]
    assert on_original.startswith("reversed by EXPENSICO-exp_9-v1-R") and reversal.external_id in on_original
    assert on_reversal.startswith("reverses EXPENSICO-exp_9-v1") and original.external_id in on_reversal
    assert "Cancel_Reverses_Journal_Entry_Reference" in on_original and "Cancel_Reverses" in on_reversal

    admin = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(admin)
    for record, text in ((original, on_original), (reversal, on_reversal)):
        page = client.get(reverse("admin:exports_exportrecord_change", args=[record.pk]))
        assert page.status_code == 200 and "Reversal link" in page.content.decode()
        assert text.split(" (")[0] in page.content.decode()
