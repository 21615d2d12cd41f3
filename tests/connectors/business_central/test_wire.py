"""How the Business Central client reads BC's answers over the wire: ambiguous write answers,
Retry-After, concurrent edits, and settings BC cannot hold."""

import json

import pytest

from connectors.base import CatalogKind, connector_for
from connectors.business_central import client as bc_client
from connectors.business_central.sandbox import testkit
from connectors.entry import Dimension, EntryLine
from connectors.errors import Permanent, RateLimited, Transient
from connectors.models import CallLog
from connectors.services import connection_check

from .helpers import key, lines_of, set_mode

pytestmark = pytest.mark.django_db


def calls(connection, since=0):
    return list(CallLog.objects.filter(connection=connection, id__gt=since).order_by("id")
                .values_list("method", "path", "status"))


def last_call_id(connection) -> int:
    return CallLog.objects.filter(connection=connection).order_by("-id").values_list("id", flat=True).first() or 0


# Ambiguous answers to writes -------------------------------------------------------------------

@pytest.mark.parametrize("status", [408, 500, 504])
def test_a_write_bc_carried_out_but_answered_ambiguously_is_not_sent_twice(bc_connection, bc_server, status):
    entry = testkit.sample_entry(bc_server, bc_connection, f"EXPENSICO-amb{status}-v1")
    bc_server.app.answer_after_commit(status, method="POST", path="journalLines")
    result = connector_for(bc_connection).push(entry, key())
    assert result.replayed, "found by reference, not created again"
    assert len(lines_of(bc_server, entry.reference)) == 1 and len(bc_server.app.sets["journalLines"]) == 1


def test_an_ambiguous_answer_is_followed_by_a_lookup_before_the_write_goes_again(bc_connection, bc_server):
    entry = testkit.sample_entry(bc_server, bc_connection, "EXPENSICO-amb-v2")
    bc_server.app.inject("server_error", status=503, count=1, method="POST", path="journalLines")  # no Retry-After
    since = last_call_id(bc_connection)
    result = connector_for(bc_connection).push(entry, key())
    assert not result.replayed and len(bc_server.app.sets["journalLines"]) == 1
    sent = [(m, p.rsplit("/", 1)[-1], s) for m, p, s in calls(bc_connection, since)]
    assert sent == [("POST", "journalLines", 503), ("POST", "$batch", 200), ("POST", "journalLines", 201)]


@pytest.mark.parametrize("fault", [{"kind": "rate_limit"}, {"kind": "server_error", "status": 503, "retry_after": "1"},
                                   {"kind": "server_error", "status": 502, "retry_after": "1"}])
def test_answers_proving_nothing_was_processed_are_retried_at_once(bc_connection, bc_server, fault):
    entry = testkit.sample_entry(bc_server, bc_connection, "EXPENSICO-busy-v1")
    bc_server.app.inject(count=1, method="POST", path="journalLines", **fault)
    since = last_call_id(bc_connection)
    result = connector_for(bc_connection).push(entry, key())
    assert result.external_id and len(bc_server.app.sets["journalLines"]) == 1
    assert [p.rsplit("/", 1)[-1] for _, p, _ in calls(bc_connection, since)] == ["journalLines", "journalLines"]


# Fault answers in OData's shape ----------------------------------------------------------------

def test_503_with_retry_after_over_the_wire_is_rate_limited_and_spares_the_breaker(bc_connection, bc_server):
    bc_server.app.inject("server_error", status=503, retry_after="7", count=10, method="GET")
    with pytest.raises(RateLimited) as exc:
        connector_for(bc_connection).catalog(CatalogKind.CURRENCIES)
    assert exc.value.retry_after == 7 and exc.value.status == 503
    bc_connection.refresh_from_db()
    assert bc_connection.consecutive_failures == 0 and bc_connection.paused_until is None
    logged = CallLog.objects.filter(connection=bc_connection, status=503)
    assert logged.count() >= 1 and set(logged.values_list("error_class", flat=True)) == {"RateLimited"}
    body = json.loads(logged.first().response_body)["error"]
    assert set(body) == {"code", "message"} and body["message"].startswith("The service is temporarily unavailable")
    assert logged.first().error_detail.startswith("Unknown: The service is temporarily unavailable")


def test_429_answers_in_odata_shape_with_retry_after(bc_connection, bc_server):
    bc_server.app.inject("rate_limit", retry_after="600", count=1, method="GET")
    with pytest.raises(RateLimited) as exc:
        connector_for(bc_connection).catalog(CatalogKind.CURRENCIES)
    assert exc.value.retry_after == 600
    logged = CallLog.objects.get(connection=bc_connection, status=429)
    assert set(json.loads(logged.response_body)["error"]) == {"code", "message"}


# 409 Request_EntityChanged ------------------------------------------------------------------------

def test_entity_changed_is_transient_and_the_write_is_retried(bc_connection, bc_server):
    entry = testkit.sample_entry(bc_server, bc_connection, "EXPENSICO-409-v1")
    bc_server.app.inject("server_error", status=409, count=1, method="POST", path="journalLines")
    result = connector_for(bc_connection).push(entry, key())
    assert result.external_id and len(bc_server.app.sets["journalLines"]) == 1
    assert CallLog.objects.get(connection=bc_connection, status=409).error_class == "Transient"


def test_entity_changed_on_a_write_pinned_to_an_etag_is_left_to_the_caller_to_re_read(bc_connection, bc_server):
    connector_for(bc_connection).push(testkit.sample_entry(bc_server, bc_connection, "EXPENSICO-409-v2"), key())
    (line,) = bc_server.app.sets["journalLines"].values()
    client = bc_client.BusinessCentralClient(bc_connection)
    path = client.company_path(f"journals({line['journalId']})/journalLines({line['id']})")
    etag = client.request("GET", path).body["@odata.etag"]
    bc_server.app.inject("server_error", status=409, count=1, method="PATCH")
    with pytest.raises(Transient) as exc:
        client.request("PATCH", path, json_body={"description": "edited"}, headers={"If-Match": etag})
    assert exc.value.status == 409
    assert CallLog.objects.filter(connection=bc_connection, method="PATCH").count() == 1, "not re-sent as is"


# Journal code: Code[10] ----------------------------------------------------------------------------

def test_the_sandbox_refuses_a_journal_code_over_10_characters(bc_connection, bc_server):
    client = bc_client.BusinessCentralClient(bc_connection)
    with pytest.raises(Permanent) as exc:
        client.request("POST", client.company_path("journals"), json_body={"code": "EXPENSICO01", "displayName": "x"})
    assert exc.value.code == "Application_StringExceededLength"
    assert client.request("POST", client.company_path("journals"), json_body={"code": "EXPENSIC01"}).status == 201


def test_check_names_a_journal_code_bc_cannot_hold(bc_connection, bc_server):
    conn = set_mode(bc_connection, journal_code="EXPENSES-2026")
    result = connection_check(connection=conn)
    assert not result.ok and "journal_code" in result.detail
    assert [j["code"] for j in bc_server.app.sets["journals"].values()] == ["EXPENSICO"]
    with pytest.raises(Permanent) as exc:
        connector_for(conn).push(testkit.sample_entry(bc_server, conn, "EXPENSICO-jc-v1"), key())
    assert exc.value.field == "journal_code" and exc.value.code == "invalid_setting"
    assert not bc_server.app.sets["journalLines"]


# Dimensions BC cannot carry -------------------------------------------------------------------------

def test_a_dimension_bc_cannot_carry_is_refused_not_dropped(bc_connection, bc_server):
    base = testkit.sample_entry(bc_server, bc_connection, "EXPENSICO-dim-v1")
    expense = base.lines[0]
    tagged = EntryLine(role=expense.role, account=expense.account, debit=expense.debit, tax_rate=expense.tax_rate,
                       tax_amount=expense.tax_amount, dimensions=(Dimension("worktag:Cost_Center", "cc-1", "CC-100"),))
    entry = type(base)(kind=base.kind, reference=base.reference, date=base.date, currency=base.currency,
                       lines=(tagged, base.lines[1]))
    seen = bc_server.app.requests_seen
    with pytest.raises(Permanent) as exc:
        connector_for(bc_connection).push(entry, key())
    assert exc.value.code == "unsupported_dimension" and exc.value.field == "dimensions"
    assert "worktag:Cost_Center" in exc.value.message
    assert bc_server.app.requests_seen == seen, "nothing was sent"


def test_the_sandbox_refuses_an_attachment_for_a_journal_line_that_does_not_exist(bc_connection):
    client = bc_client.BusinessCentralClient(bc_connection)
    with pytest.raises(Permanent) as exc:
        client.request("POST", client.company_path("attachments"), json_body={
            "parentId": "00000000-0000-0000-0000-000000000001", "fileName": "r.pdf", "parentType": "Journal"})
    assert exc.value.code == "Internal_RecordNotFound"
