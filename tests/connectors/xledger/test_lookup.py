"""Looking vouchers up by reference over the sandbox: by the documented `modifiedAt_gte` window
(the default: the contract does not know a filter for `extIdentifier`) or, where introspection in
check() finds them, by reference filters; a connection setting pins either."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests
from django.utils import timezone

from connectors.base import connector_for
from connectors.errors import Permanent
from connectors.models import CallLog
from connectors.xledger import lookup, schema
from connectors.xledger.sandbox import testkit

pytestmark = pytest.mark.django_db


def key() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def sent(xl_server):
    """The GraphQL bodies the sandbox receives."""
    bodies = []
    xl_server.app.observers.append(lambda req, resp: bodies.append(req.json()))
    return bodies


def push(server, connection, reference):
    return connector_for(connection).push(testkit.sample_entry(server, connection, reference), key())


def calls(connection) -> int:
    return CallLog.objects.filter(connection=connection).count()


def test_the_default_sandbox_has_no_reference_filter(xl_server):
    answer = requests.post(f"{xl_server.base_url}/graphql", timeout=5, json={"query": schema.LOOKUP,
                           "variables": {"refs": ["X"]}}, headers={"Authorization": f"token {testkit.API_TOKEN}"})
    assert "extIdentifier_in" in answer.json()["errors"][0]["message"]


def test_check_finds_no_reference_filters_so_references_are_matched_in_a_window(xl_connection, xl_server, sent):
    assert xl_connection.settings["lookup_filters_detected"] is False
    assert "references looked up by window" in xl_connection.last_check_detail
    for n in range(3):
        push(xl_server, xl_connection, f"EXPENSICO-w{n}-v1")
    before, sent[:] = calls(xl_connection), []
    found = connector_for(xl_connection).find_by_reference(["EXPENSICO-w0-v1", "EXPENSICO-w2-v1", "EXPENSICO-no-v1"])
    assert set(found) == {"EXPENSICO-w0-v1", "EXPENSICO-w2-v1"} and all(d.live for d in found.values())
    assert calls(xl_connection) - before == 1, "rows and errors in one request"
    [body] = sent
    assert "modifiedAt_gte" in body["query"] and "extIdentifier_in" not in body["query"]
    since = datetime.fromisoformat(body["variables"]["since"])
    assert since.tzinfo is None, "Xledger keeps modifiedAt in CET and is sent CET"
    expected = (timezone.now() - timedelta(days=lookup.WINDOW_DAYS) - lookup.SKEW).astimezone(lookup.CET)
    assert abs(since - expected.replace(tzinfo=None)) < timedelta(minutes=1)


def test_the_window_pages_each_root_on_its_own_cursor(xl_connection, xl_server, monkeypatch):
    for n in range(3):
        push(xl_server, xl_connection, f"EXPENSICO-p{n}-v1")
    monkeypatch.setattr(schema, "PAGE", 2)
    before = calls(xl_connection)
    found = connector_for(xl_connection).find_by_reference([f"EXPENSICO-p{n}-v1" for n in range(3)])
    assert len(found) == 3 and calls(xl_connection) - before == 3, "6 import rows, 2 a page; no errors to page"


def test_check_detects_reference_filters_when_the_schema_has_them(xl_server, org, sent):
    xl_server.app.use_lookup_filters(True)
    connection = testkit.connect(xl_server, org)
    assert connection.settings["lookup_filters_detected"] is True
    push(xl_server, connection, "EXPENSICO-f1-v1")
    before, sent[:] = calls(connection), []
    found = connector_for(connection).find_by_reference(["EXPENSICO-f1-v1", "EXPENSICO-no-v1"])
    assert set(found) == {"EXPENSICO-f1-v1"} and calls(connection) - before == 1
    assert "extIdentifier_in" in sent[0]["query"] and "modifiedAt_gte" not in sent[0]["query"]


def test_a_pinned_lookup_wins_over_detection_and_saves_the_introspection(xl_server, org, sent):
    xl_server.app.use_lookup_filters(True)
    connection = testkit.connect(xl_server, org, lookup_by="window")
    assert "lookup_filters_detected" not in connection.settings
    assert not any("__schema" in body["query"] for body in sent)
    push(xl_server, connection, "EXPENSICO-pin-v1")
    sent[:] = []
    assert "EXPENSICO-pin-v1" in connector_for(connection).find_by_reference(["EXPENSICO-pin-v1"])
    assert "modifiedAt_gte" in sent[0]["query"]


def test_filters_pinned_where_the_schema_has_none_fail_loudly(xl_connection, xl_server):
    xl_connection.settings = {**xl_connection.settings, "lookup_by": "filter"}
    xl_connection.save()
    with pytest.raises(Permanent) as exc:
        connector_for(xl_connection).find_by_reference(["EXPENSICO-x-v1"])
    assert "extIdentifier_in" in exc.value.message


def test_a_retried_push_looks_back_only_to_the_first_send_of_its_key(xl_connection, xl_server, sent):
    entry = testkit.sample_entry(xl_server, xl_connection, "EXPENSICO-k1-v1")
    k = key()
    first = connector_for(xl_connection).push(entry, k)
    first_call = CallLog.objects.filter(connection=xl_connection, idempotency_key=k).earliest("created_at")
    sent[:] = []
    again = connector_for(xl_connection).push(entry, k)
    assert again.replayed and again.external_id == first.external_id and again.calls == 1
    since = datetime.fromisoformat(sent[0]["variables"]["since"]).replace(tzinfo=lookup.CET)
    assert since == (first_call.created_at - lookup.SKEW).replace(microsecond=0)


def test_a_reversal_of_a_voucher_older_than_the_window_goes_on_its_stored_id(xl_connection, xl_server):
    entry = testkit.sample_entry(xl_server, xl_connection, "EXPENSICO-old-v1")
    pushed = connector_for(xl_connection).push(entry, key())
    long_ago = (datetime.now(lookup.CET) - timedelta(days=lookup.WINDOW_DAYS + 10)).strftime("%Y-%m-%dT%H:%M:%S.%f")
    for row in xl_server.app.tables["glImportItems"]:
        row["createdAt"] = row["modifiedAt"] = long_ago
    assert connector_for(xl_connection).find_by_reference([entry.reference]) == {}, "outside the window"
    done = connector_for(xl_connection).reverse(pushed.external_id, testkit.reversal_entry(entry), key())
    assert done.notes == ("the original is older than the look-up window; reversed on its stored voucher id",)
    assert len(testkit.booked(xl_server, entry.reference + "-R")) == 1
    again = connector_for(xl_connection).reverse(pushed.external_id, testkit.reversal_entry(entry), key())
    assert again.notes == ("already reversed",)


def test_the_sandbox_reads_a_filter_moment_without_offset_as_cet(xl_connection, xl_server):
    push(xl_server, xl_connection, "EXPENSICO-cet-v1")
    [row] = [r for r in xl_server.app.tables["glImportItems"] if r["extIdentifier"] == "EXPENSICO-cet-v1"][:1]
    written = datetime.fromisoformat(row["modifiedAt"])
    query = "query($since: DateTime) { glImportItems(first: 100, filter: {modifiedAt_gte: $since}) { edges { node { dbId } } } }"

    def ids(since: str) -> set[str]:
        body = requests.post(f"{xl_server.base_url}/graphql", timeout=5, json={"query": query, "variables": {
            "since": since}}, headers={"Authorization": f"token {testkit.API_TOKEN}"}).json()
        return {e["node"]["dbId"] for e in body["data"]["glImportItems"]["edges"]}

    assert row["dbId"] in ids((written - timedelta(seconds=1)).isoformat())
    assert row["dbId"] not in ids((written + timedelta(seconds=1)).isoformat())
    # A moment with an offset is that moment: one second before the row, in UTC.
    utc = (written.replace(tzinfo=lookup.CET) - timedelta(seconds=1)).astimezone(UTC)
    assert row["dbId"] in ids(utc.isoformat())
    assert row["dbId"] not in ids((utc + timedelta(seconds=2)).isoformat())
