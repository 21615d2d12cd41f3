"""Xledger read-back: frugal (one request for 500 vouchers), within the schema, failed imports
read as cancelled, and the month's request allowance shown before a read spends it."""

import uuid
from datetime import date
from decimal import Decimal

import pytest
from graphql import build_schema, parse, validate

from connectors.base import connector_for
from connectors.models import CallLog
from connectors.xledger import readback
from connectors.xledger.sandbox import testkit
from connectors.xledger.sandbox.server import SDL
from connectors.xledger.selectors import INCLUDED_REQUESTS

pytestmark = pytest.mark.django_db


def test_the_read_back_query_is_valid_against_the_schema():
    assert validate(build_schema(SDL), parse(readback.READ_BACK)) == []


def test_500_vouchers_cost_one_request(xl_server, xl_connection):
    claims = xl_connection.employee_claims_account
    inputs = []
    for i in range(500):
        for account, amount in (({"code": "7140"}, "100.00"), ({"dbId": claims}, "-100.00")):
            inputs.append({"postedDate": f"2026-11-{i % 28 + 1:02d}", "account": account, "amount": amount,
                           "currency": {"code": "NOK"}, "extIdentifier": f"EXPENSICO-bulk{i}-v1"})
    testkit._add(xl_server, inputs)    # one call of the accountant's, 500 vouchers
    before = xl_server.app.requests_seen
    pages = list(connector_for(xl_connection).read_back(date_from=date(2026, 11, 1), date_to=date(2026, 11, 30)))
    assert xl_server.app.requests_seen - before == sum(p.requests for p in pages) == 1
    docs = [d for p in pages for d in p.documents]
    assert len(docs) == 500 and {d.amount for d in docs} == {Decimal("100.00")}
    assert all(d.status == "posted" and len(d.lines) == 2 for d in docs)


def test_a_voucher_the_import_job_refused_reads_as_cancelled(xl_server, xl_connection):
    connector = connector_for(xl_connection)
    testkit.fail_next_imports(xl_server, "Account 7140 is blocked for posting")
    refused = connector.push(testkit.sample_entry(xl_server, xl_connection, "EXPENSICO-f1-v1"), str(uuid.uuid4()))
    booked = connector.push(testkit.sample_entry(xl_server, xl_connection, "EXPENSICO-f1-v1"), str(uuid.uuid4()))
    [page] = connector.read_back(references=["EXPENSICO-f1-v1"])
    status = {d.external_id: (d.status, d.memo) for d in page.documents}
    assert status[refused.external_id] == ("cancelled", "Account 7140 is blocked for posting")
    assert status[booked.external_id][0] == "posted"


def test_the_request_budget_is_the_allowance_left_this_month(xl_connection):
    used = CallLog.objects.filter(connection=xl_connection).count()
    assert used > 0
    assert connector_for(xl_connection).read_back_request_budget == INCLUDED_REQUESTS - used
