"""Faults over the wire in Xledger's own shapes, and writes that may have been applied: a mutation
answered with a 5xx, a timeout or a partial answer is looked up by extIdentifier, never re-sent
blindly."""

import uuid

import pytest
import requests

from connectors.base import connector_for
from connectors.errors import OutcomeUnknown, RateLimited, Transient
from connectors.models import CallLog
from connectors.xledger import schema
from connectors.xledger.client import XledgerClient
from connectors.xledger.sandbox import testkit

pytestmark = pytest.mark.django_db


def key() -> str:
    return str(uuid.uuid4())


def post(server, query=schema.ENTITY):
    return requests.post(f"{server.base_url}/graphql", json={"query": query, "variables": {}}, timeout=5,
                         headers={"Authorization": f"token {testkit.API_TOKEN}"})


def logged(connection) -> list[tuple]:
    return list(CallLog.objects.filter(connection=connection).order_by("id")
                .values_list("status", "error_class"))


# Fault switches answer the way Xledger does ----------------------------------------------------

def test_a_rate_limit_fault_is_xledgers_burst_error_in_a_200(xl_server):
    xl_server.app.inject("rate_limit", count=1)
    answer = post(xl_server)
    assert answer.status_code == 200 and "Retry-After" not in answer.headers
    body = answer.json()
    assert body["data"] is None and body["errors"][0]["code"] == "BAD_REQUEST.BURST_RATE_LIMIT_REACHED"
    assert body == xl_server.app.rate_limited_response(None).body, "the same answer as the sandbox's own limit"


def test_a_rate_limit_fault_with_retry_after_is_a_gateway_429_in_xledgers_shape(xl_server):
    xl_server.app.inject("rate_limit", count=1, retry_after="7")
    answer = post(xl_server)
    assert answer.status_code == 429 and answer.headers["Retry-After"] == "7"
    assert answer.json()["errors"][0]["code"] == "BAD_REQUEST.BURST_RATE_LIMIT_REACHED"


def test_a_server_error_fault_is_in_xledgers_shape(xl_server):
    xl_server.app.inject("server_error", count=1, status=502)
    answer = post(xl_server)
    assert answer.status_code == 502
    assert answer.json()["data"] is None and answer.json()["errors"][0]["code"] == "INTERNAL_SERVER_ERROR"


def test_the_client_maps_fault_answers_to_the_taxonomy(xl_connection, xl_server):
    client = XledgerClient(xl_connection)
    xl_server.app.inject("rate_limit", count=5)
    with pytest.raises(RateLimited) as limited:
        client.graphql(schema.ENTITY)
    assert limited.value.retry_after == 5.0 and limited.value.status == 200
    assert logged(xl_connection)[-1] == (200, "RateLimited")
    xl_server.app.clear_faults()
    xl_server.app.inject("rate_limit", count=5, retry_after="9")
    with pytest.raises(RateLimited) as gateway:
        client.graphql(schema.ENTITY)
    assert gateway.value.retry_after == 9.0 and gateway.value.status == 429
    xl_server.app.clear_faults()
    xl_server.app.inject("server_error", count=5, status=503)
    with pytest.raises(Transient) as failed:
        client.graphql(schema.ENTITY)
    assert type(failed.value) is Transient and "unexpected error" in failed.value.message
    assert logged(xl_connection)[-1] == (503, "Transient")


# Writes that may have been applied ---------------------------------------------------------------

def test_a_mutation_answered_5xx_after_it_ran_is_found_not_sent_again(xl_connection, xl_server):
    xl_server.app.answers_after_commit.append({"status": 503})
    entry = testkit.sample_entry(xl_server, xl_connection, "EXPENSICO-5xx-v1")
    result = connector_for(xl_connection).push(entry, key())
    assert result.replayed and result.calls == 2, "the mutation, then one look-up"
    assert len(testkit.held(xl_server, entry.reference)) == 1 and len(testkit.booked(xl_server, entry.reference)) == 1
    assert (503, "OutcomeUnknown") in logged(xl_connection)


def test_a_mutation_that_timed_out_after_it_ran_is_found_not_sent_again(xl_connection, xl_server):
    xl_server.app.answers_after_commit.append({"message": "The request timed out while executing."})
    entry = testkit.sample_entry(xl_server, xl_connection, "EXPENSICO-slow-v1")
    result = connector_for(xl_connection).push(entry, key())
    assert result.replayed and result.calls == 2
    assert len(testkit.held(xl_server, entry.reference)) == 1
    assert (200, "OutcomeUnknown") in logged(xl_connection)


def test_a_5xx_before_the_mutation_ran_is_looked_up_then_sent_once(xl_connection, xl_server):
    xl_server.app.inject("server_error", count=1, status=503, method="POST")
    entry = testkit.sample_entry(xl_server, xl_connection, "EXPENSICO-503-v1")
    result = connector_for(xl_connection).push(entry, key())
    assert not result.replayed and result.calls == 3, "mutation (503), look-up (absent), mutation"
    assert len(testkit.held(xl_server, entry.reference)) == 1


def test_a_partial_answer_is_outcome_unknown_and_the_voucher_is_completed_once(xl_connection, xl_server):
    xl_server.app.partial_writes = 1
    entry = testkit.sample_entry(xl_server, xl_connection, "EXPENSICO-part-v1")
    client = XledgerClient(xl_connection)
    with pytest.raises(OutcomeUnknown) as exc:
        client.graphql(schema.ADD_VOUCHER, {"inputs": schema.voucher_inputs(entry)}, mutation=True)
    assert "partial" in exc.value.message and client.calls == 1, "never re-sent blindly"
    [partial] = testkit.held(xl_server, entry.reference)
    assert len(partial["rows"]) == 1, "one of the two rows was applied; Xledger's import job refuses it"

    xl_server.app.partial_writes = 1
    entry = testkit.sample_entry(xl_server, xl_connection, "EXPENSICO-part-v2")
    result = connector_for(xl_connection).push(entry, key())
    assert not result.replayed and result.calls == 3, "partial mutation, look-up (refused), full mutation"
    assert len(testkit.booked(xl_server, entry.reference)) == 1
    assert connector_for(xl_connection).find_by_reference([entry.reference])[entry.reference].live
