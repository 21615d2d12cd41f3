"""Standard Webhooks verification vectors against the real endpoint (401 means nothing stored)."""

import base64
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from expensico_sync.core.models import new_webhook_secret
from expensico_sync.core.services import organization_rotate_webhook_secret
from expensico_sync.source.intake import signature_verify
from expensico_sync.source.models import Expense, WebhookDelivery
from expensico_sync.source.simulator.sender import sign
from tests.source.factories import expense_payload, report_payload
from tests.source.helpers import approved, post_event

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 2, 12, 0, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def body():
    return approved(report_payload(1, expenses=[expense_payload(1)]))


def nothing_stored():
    return not WebhookDelivery.objects.exists() and not Expense.objects.exists()


def test_known_vector():
    # Published Standard Webhooks test vector (same HMAC construction as the spec).
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    payload = b'{"test": 2432232314}'
    headers = {"webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek", "webhook-timestamp": "1614265330",
               "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="}
    with time_machine.travel(datetime.fromtimestamp(1614265330, tz=UTC), tick=False):
        assert signature_verify(secrets=[secret], body=payload, headers=headers)
        assert not signature_verify(secrets=[new_webhook_secret()], body=payload, headers=headers)


def test_valid_signature_is_accepted(client, org):
    assert post_event(client, org, body(), timestamp=NOW).status_code == 202


def test_tampered_body_is_401(client, org):
    import json
    text = json.dumps(body())
    headers = sign(secret=org.webhook_secret, webhook_id="m", body=text, timestamp=NOW)
    tampered = text.replace('"115.000"', '"915.000"')
    assert tampered != text
    response = client.post(f"/api/v1/expensico/webhooks/{org.slug}/", data=tampered.encode(),
                           content_type="application/json",
                           **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()})
    assert response.status_code == 401 and response.json()["errors"][0]["code"] == "invalid_signature"
    assert nothing_stored()


def test_wrong_secret_is_401(client, org):
    assert post_event(client, org, body(), secret=new_webhook_secret()).status_code == 401
    assert nothing_stored()


@pytest.mark.parametrize("header", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_header_is_401(client, org, header):
    import json
    text = json.dumps(body())
    headers = sign(secret=org.webhook_secret, webhook_id="m", body=text, timestamp=NOW)
    del headers[header]
    response = client.post(f"/api/v1/expensico/webhooks/{org.slug}/", data=text.encode(),
                           content_type="application/json",
                           **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()})
    assert response.status_code == 401 and nothing_stored()


@pytest.mark.parametrize("garbage", ["v1", "v1,not base64!!", "v2,AAAA", "", "v1,a,b"])
def test_malformed_signature_header_is_401_not_500(client, org, garbage):
    assert post_event(client, org, body(), headers={"webhook-signature": garbage}).status_code == 401


@pytest.mark.parametrize(("offset", "status"), [(-299, 202), (299, 202), (-301, 401), (301, 401)])
def test_timestamp_tolerance(client, org, offset, status):
    assert post_event(client, org, body(), timestamp=NOW + timedelta(seconds=offset)).status_code == status
    assert Expense.objects.exists() == (status == 202)


def test_rotated_secret_both_accepted_during_rotation(client, org):
    old = org.webhook_secret
    new = organization_rotate_webhook_secret(organization=org)
    org.refresh_from_db()
    assert post_event(client, org, body(), webhook_id="a", secret=old).status_code == 202
    assert post_event(client, org, body(), webhook_id="b", secret=new).status_code == 202
    # Expensico signs with both during rotation: a space-separated list, either may match.
    import json
    text = json.dumps(body())
    both = " ".join(sign(secret=s, webhook_id="c", body=text, timestamp=NOW)["webhook-signature"]
                    for s in (new_webhook_secret(), old))
    assert post_event(client, org, body(), webhook_id="c", headers={"webhook-signature": both}).status_code == 202
    org.webhook_secret_previous = ""
    org.save()
    assert post_event(client, org, body(), webhook_id="d", secret=old).status_code == 401


def test_secret_of_another_organisation_is_rejected(client, org):
    from tests.core.factories import make_org
    other = make_org("other")
    assert post_event(client, org, body(), secret=other.webhook_secret).status_code == 401


def test_signature_is_over_raw_bytes_not_reencoded_json(client, org):
    # Same JSON value, different bytes (spacing): the signature of one doesn't cover the other.
    import json
    compact = json.dumps(body(), separators=(",", ":"))
    spaced = json.dumps(body(), indent=2)
    headers = sign(secret=org.webhook_secret, webhook_id="m", body=compact, timestamp=NOW)
    response = client.post(f"/api/v1/expensico/webhooks/{org.slug}/", data=spaced.encode(),
                           content_type="application/json",
                           **{f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()})
    assert response.status_code == 401
    assert base64.b64decode(headers["webhook-signature"].split(",")[1])
