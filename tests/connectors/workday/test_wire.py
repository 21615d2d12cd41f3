"""Workday over the wire: warnings on an accepted journal, SOAP fault switches mapped to the
taxonomy, reads retried, page caps and unsupported dimensions refused in the taxonomy."""

import uuid

import pytest
import requests

from connectors.base import CatalogKind, connector_for
from connectors.entry import AccountingEntry, Dimension, EntryLine
from connectors.errors import Permanent, RateLimited
from connectors.models import CallLog
from connectors.workday import connector as workday_connector
from connectors.workday.client import parse_fault
from connectors.workday.sandbox import testkit

from .test_sandbox import journal, submit

pytestmark = pytest.mark.django_db


def key():
    return str(uuid.uuid4())


def sandbox_settings(server, **settings):
    resp = requests.post(f"{server.base_url}/__sandbox__/settings", json=settings, timeout=10)
    assert resp.status_code == 200, resp.text


# Item: Exceptions_Response_Data ------------------------------------------------------------

def test_warnings_on_an_accepted_journal_become_push_warnings(workday_connection, workday_server):
    sandbox_settings(workday_server, journal_exceptions=[
        {"classification": "Warning", "message": "The accounting date falls in a period that is closing."},
        {"classification": "Warning", "message": "Spend category SC_Travel is inactive from next month."}])
    entry = testkit.sample_entry(workday_server, workday_connection, "EXPENSICO-ex1-v1")
    result = connector_for(workday_connection).push(entry, key())
    assert result.warnings == ("Workday warning: The accounting date falls in a period that is closing.",
                               "Workday warning: Spend category SC_Travel is inactive from next month.")
    assert result.calls == 1
    [held] = testkit.held(workday_server, "EXPENSICO-ex1-v1")
    assert held["wid"] == result.external_id and held["status"] == "Posted"

    requests.post(f"{workday_server.base_url}/__sandbox__/clear", timeout=10)
    clean = connector_for(workday_connection).push(
        testkit.sample_entry(workday_server, workday_connection, "EXPENSICO-ex2-v1"), key())
    assert clean.warnings == ()


def test_the_warning_answer_is_valid_against_the_xsd(workday_server):
    answers = []
    workday_server.app.observers.append(lambda req, resp: answers.append(resp.body))
    sandbox_settings(workday_server, journal_exceptions=[{"classification": "Warning", "message": "Look at me"}])
    resp = submit(workday_server, journal("EXW1"))
    assert resp.status_code == 200
    assert b"Exceptions_Response_Data" in resp.content and b"<wd:Classification>Warning" in resp.content
    assert answers and workday_server.checker.checked >= 1   # the conftest checker fails on any XSD violation
    bad = requests.post(f"{workday_server.base_url}/__sandbox__/settings", json={"journal_exceptions": [{}]},
                        timeout=10)
    assert bad.status_code == 400


# Item: fault switches as SOAP faults ---------------------------------------------------------

def test_fault_switches_answer_with_soap_server_faults(workday_server):
    workday_server.app.inject("rate_limit", count=1, method="POST", retry_after="7")
    limited = submit(workday_server, journal("FS1"))
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "7"
    assert limited.headers["Content-Type"].startswith("text/xml")
    assert parse_fault(limited.content)["faultcode"] == "SOAP-ENV:Server"
    workday_server.app.inject("server_error", count=1, method="POST", status=503)
    failed = submit(workday_server, journal("FS1"))
    assert failed.status_code == 503 and parse_fault(failed.content)["faultcode"] == "SOAP-ENV:Server"
    assert submit(workday_server, journal("FS1")).status_code == 200


def test_throttling_fault_is_rate_limited_with_its_retry_after(workday_connection, workday_server):
    workday_server.app.inject("rate_limit", count=1, method="POST", retry_after="600")
    with pytest.raises(RateLimited) as exc:
        connector_for(workday_connection).push(
            testkit.sample_entry(workday_server, workday_connection, "EXPENSICO-fs2-v1"), key())
    assert exc.value.retry_after == 600
    assert not testkit.held(workday_server, "EXPENSICO-fs2-v1")


def test_server_fault_at_http_500_is_transient_not_a_validation_error(workday_connection, workday_server):
    workday_server.app.inject("server_error", count=1, method="POST", status=500)
    result = connector_for(workday_connection).push(
        testkit.sample_entry(workday_server, workday_connection, "EXPENSICO-fs3-v1"), key())
    assert len(testkit.held(workday_server, "EXPENSICO-fs3-v1")) == 1 and result.external_id
    rows = list(CallLog.objects.order_by("id").values_list("status", "error_class"))[-2:]
    assert rows == [(500, "Transient"), (200, "")]


# Item: Get_* reads are safe to retry ----------------------------------------------------------

def test_a_lookup_survives_a_server_error(workday_connection, workday_server):
    connector_for(workday_connection).push(
        testkit.sample_entry(workday_server, workday_connection, "EXPENSICO-rd1-v1"), key())
    workday_server.app.inject("server_error", count=1, method="POST", status=503)   # the next request: Get_Journals
    found = connector_for(workday_connection).find_by_reference(["EXPENSICO-rd1-v1"])
    assert "EXPENSICO-rd1-v1" in found


def test_a_lookup_whose_answer_is_late_is_retried_not_unknown(workday_connection, workday_server):
    connector_for(workday_connection).push(
        testkit.sample_entry(workday_server, workday_connection, "EXPENSICO-rd2-v1"), key())
    workday_connection.settings = {**workday_connection.settings, "read_timeout": 0.5}
    workday_server.app.inject("slow", count=1, method="POST", seconds=1.5)
    found = connector_for(workday_connection).find_by_reference(["EXPENSICO-rd2-v1"])
    assert "EXPENSICO-rd2-v1" in found


def test_catalog_reads_are_retried_too(workday_connection, workday_server):
    workday_server.app.inject("server_error", count=1, method="POST", status=502)
    assert connector_for(workday_connection).catalog(CatalogKind.ACCOUNTS)


# Item: page caps and dimensions are taxonomy errors --------------------------------------------

def test_more_pages_than_the_cap_is_a_permanent_error(workday_connection, workday_server, monkeypatch):
    refs = ["EXPENSICO-pg1-v1", "EXPENSICO-pg2-v1"]
    for ref in refs:
        connector_for(workday_connection).push(testkit.sample_entry(workday_server, workday_connection, ref), key())
    monkeypatch.setattr(workday_connector, "PAGE_SIZE", 1)
    monkeypatch.setattr(workday_connector, "MAX_PAGES", 1)
    with pytest.raises(Permanent) as exc:
        connector_for(workday_connection).find_by_reference(refs)
    assert exc.value.code == "too_many_pages" and "Get_Journals" in exc.value.message


def test_a_dimension_workday_cannot_carry_is_refused_before_sending(workday_connection, workday_server):
    entry = testkit.sample_entry(workday_server, workday_connection, "EXPENSICO-dm1-v1")
    expense, paid = entry.lines
    branch = EntryLine(role=expense.role, account=expense.account, debit=expense.debit,
                       dimensions=(*expense.dimensions, Dimension(kind="branch", remote_id="BR-RUH")))
    sent = CallLog.objects.count()
    with pytest.raises(Permanent) as exc:
        connector_for(workday_connection).push(
            AccountingEntry(kind=entry.kind, reference=entry.reference, date=entry.date, currency=entry.currency,
                            description=entry.description, lines=(branch, paid)), key())
    assert exc.value.code == "unsupported_dimension" and exc.value.field == "dimensions.branch"
    assert "branch" in exc.value.message
    assert CallLog.objects.count() == sent and not testkit.held(workday_server, "EXPENSICO-dm1-v1")
