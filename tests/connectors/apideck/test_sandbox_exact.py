"""The Apideck sandbox keeps money exact and holds every answer to the spec, refusals included."""

import uuid
from decimal import Decimal

import pytest
import requests

from connectors.apideck.sandbox import spec as aspec
from connectors.apideck.sandbox import testkit
from connectors.apideck.sandbox.server import API_KEY, APP_ID, CONSUMER_ID
from connectors.base import connector_for

pytestmark = pytest.mark.django_db

HEADERS = {"Authorization": f"Bearer {API_KEY}", "x-apideck-app-id": APP_ID, "x-apideck-consumer-id": CONSUMER_ID}
# More significant digits than a float holds: 1234567890123456.78 becomes 1234567890123456.8.
BIG = Decimal("1234567890123456.78")


def test_journal_entry_amounts_come_back_digit_for_digit(apideck_connection, apideck_server):
    entry = testkit.sample_entry(apideck_server, apideck_connection, "EXPENSICO-e1-v1", amount=BIG)
    connector = connector_for(apideck_connection)
    pushed = connector.push(entry, str(uuid.uuid4()))
    assert connector.find_by_reference(["EXPENSICO-e1-v1"])["EXPENSICO-e1-v1"].amount == "1234567890123456.78"
    raw = requests.get(f"{apideck_server.base_url}/accounting/journal-entries/{pushed.external_id}",
                       headers=HEADERS, timeout=10).text
    assert '"total_amount": 1234567890123456.78' in raw


def test_expense_total_is_stored_and_rendered_exactly(apideck_server, org):
    conn = testkit.connect(apideck_server, org, name="expense mode", document="expense")
    pushed = connector_for(conn).push(testkit.sample_entry(apideck_server, conn, "EXPENSICO-e2-v1", amount=BIG),
                                      str(uuid.uuid4()))
    assert apideck_server.app.expenses[pushed.external_id]["total_amount"] == BIG
    raw = requests.get(f"{apideck_server.base_url}/accounting/expenses/{pushed.external_id}", headers=HEADERS,
                       timeout=10).text
    assert '"total_amount": 1234567890123456.78' in raw


def test_snapshot_keeps_amounts_exact(apideck_server, org, tmp_path):
    conn = testkit.connect(apideck_server, org, name="expense mode", document="expense")
    pushed = connector_for(conn).push(testkit.sample_entry(apideck_server, conn, "EXPENSICO-e3-v1", amount=BIG),
                                      str(uuid.uuid4()))
    path = str(tmp_path / "apd.json")
    apideck_server.app.save(path)
    again = type(apideck_server.app)(snapshot=path)
    assert again.expenses[pushed.external_id]["total_amount"] == BIG


def test_refusals_and_fault_answers_are_checked_against_the_spec(apideck_server, monkeypatch):
    checked = []
    real = aspec.check_response

    def spy(method, path, status, body):
        checked.append(status)
        return real(method, path, status, body)

    monkeypatch.setattr(aspec, "check_response", spy)
    url = f"{apideck_server.base_url}/accounting/ledger-accounts"

    def get(headers):
        return requests.get(url, headers=headers, timeout=10).status_code

    assert get({**HEADERS, "Authorization": "Bearer nope"}) == 401
    assert get({k: v for k, v in HEADERS.items() if k != "x-apideck-consumer-id"}) == 400
    assert get({**HEADERS, "x-apideck-consumer-id": "someone-else"}) == 404
    apideck_server.app.inject("rate_limit", count=1, method="GET")
    assert get(HEADERS) == 429
    apideck_server.app.inject("server_error", count=1, method="GET", status=503)
    assert get(HEADERS) == 503
    bad_json = requests.post(f"{apideck_server.base_url}/accounting/journal-entries", data=b"{not json",
                             headers={**HEADERS, "Content-Type": "application/json"}, timeout=10)
    assert bad_json.status_code == 400
    assert checked == [401, 400, 404, 429, 503, 400]
