"""Odd but signed webhook bodies (issue 14, item 4): each is a 400 in the API's error format naming
the field, and the raw delivery is logged as rejected. Runs on PostgreSQL in CI (NUL characters and
integer overflow only fail there) and on SQLite alike."""

import base64
import hashlib
import hmac
import json
import time

import pytest
from standardwebhooks.webhooks import Webhook

from expensico_sync.source.intake import LOGGED_BYTES
from expensico_sync.source.models import Expense, WebhookDelivery
from tests.source.factories import expense_payload, report_payload
from tests.source.helpers import approved, webhook_url

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def signed_post(client, org, raw: bytes, webhook_id="msg_odd"):
    """Signs the exact bytes (the library's helper only signs text, and some rows are not UTF-8)."""
    timestamp = str(int(time.time()))
    key = Webhook(org.webhook_secret)._whsecret
    mac = hmac.new(key, f"{webhook_id}.{timestamp}.".encode() + raw, hashlib.sha256).digest()
    return client.post(webhook_url(org), data=raw, content_type="application/json",
                       HTTP_WEBHOOK_ID=webhook_id, HTTP_WEBHOOK_TIMESTAMP=timestamp,
                       HTTP_WEBHOOK_SIGNATURE="v1," + base64.b64encode(mac).decode())


def report_with(**expense_over) -> bytes:
    return json.dumps(approved(report_payload(1, expenses=[expense_payload(1, **expense_over)]))).encode()


def mutated(fn) -> bytes:
    body = approved(report_payload(1, expenses=[expense_payload(1)]))
    fn(body)
    return json.dumps(body).encode()


def oversized() -> bytes:
    notes = {f"note_{i}": "x" * 1000 for i in range(300)}  # ~300 kB, valid in every other respect
    return report_with(details=notes)


E0 = "data.report.expenses.0"
CASES = [
    ("list", b"[]", "body"),
    ("string", b'"x"', "body"),
    ("number", b"42", "body"),
    ("null", b"null", "body"),
    ("version beyond 64 bits", report_with(version=2**70), f"{E0}.version"),
    ("version beyond the column", report_with(version=2**40), f"{E0}.version"),
    ("integer beyond 64 bits in details", report_with(details={"trips": 2**70}), f"{E0}.details.trips"),
    ("NUL in description", report_with(description="paper\u0000"), f"{E0}.description"),
    ("NUL in nested details", report_with(details={"route": {"stops": ["Riyadh", "Jed\u0000dah"]}}),
     f"{E0}.details.route.stops.1"),
    ("NUL in custom_fields", report_with(custom_fields={"po": "PO-\u00001"}), f"{E0}.custom_fields.po"),
    ("NUL in a key", report_with(custom_fields={"p\u0000o": "1"}), f"{E0}.custom_fields.p\\u0000o"),
    ("NUL in the event type", mutated(lambda b: b.update(type="expense_report.approved\u0000")), "type"),
    ("NUL in the employee name", mutated(lambda b: b["data"]["report"]["employee"].update(name="A\u0000")),
     "data.report.employee.name"),
    ("not UTF-8", report_with(description="caf\u00e9").replace(b"caf\\u00e9", b"caf\xe9"), "body"),
    ("money as a JSON number", report_with(amount="115.000").replace(b'"amount": "115.000"', b'"amount": 115.0'),
     f"{E0}.amount"),
    ("money as a JSON integer", report_with(amount="115.000").replace(b'"amount": "115.000"', b'"amount": 115'),
     f"{E0}.amount"),
    ("tax amount as a JSON number", report_with(tax={"code": "VAT15", "rate": "15.00", "amount": 15.0,
                                                     "inclusive": True}), f"{E0}.tax.amount"),
    ("oversized", oversized(), "body"),
]


@pytest.mark.parametrize(("raw", "attr"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_odd_signed_body_is_400_naming_the_field_and_logged_as_rejected(client, org, settings, raw, attr):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100_000  # Django's own default is 2.5 MB
    response = signed_post(client, org, raw)
    assert response.status_code == 400, response.content[:300]
    assert response.headers["Content-Type"] == "application/json"
    body = response.json()
    assert body["type"] == "validation_error"
    assert attr in [e["attr"] for e in body["errors"]], body
    assert not Expense.objects.exists()
    logged = WebhookDelivery.objects.get(webhook_id="msg_odd")
    assert logged.outcome == "rejected" and logged.signature_valid
    assert attr in logged.reason, logged.reason
    assert logged.body
    if len(raw) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
        assert len(logged.body.encode()) == LOGGED_BYTES and raw.startswith(logged.body.encode())


def test_an_oversized_body_with_a_bad_signature_is_401_and_not_logged(client, org, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100_000
    raw = oversized()
    timestamp = str(int(time.time()))
    response = client.post(webhook_url(org), data=raw, content_type="application/json",
                           HTTP_WEBHOOK_ID="msg_forged", HTTP_WEBHOOK_TIMESTAMP=timestamp,
                           HTTP_WEBHOOK_SIGNATURE="v1," + base64.b64encode(b"0" * 32).decode())
    assert response.status_code == 401 and response.json()["errors"][0]["code"] == "invalid_signature"
    assert not WebhookDelivery.objects.filter(webhook_id="msg_forged").exists()
