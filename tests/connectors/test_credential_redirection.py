"""A stored vendor credential never reaches a host of the caller's choosing (issue 14, item 1).

Each vendor: a connection holding credentials is moved (PATCH base_url, secret not re-sent) to a
loopback listener; then check and a catalog refresh run. The stored secrets are gone and the
listener saw no credential: no Authorization header and no secret's text in headers or body.
"""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework.test import APIClient

from connectors.business_central.sandbox import testkit as bc_testkit
from connectors.business_central.sandbox.server import API_PREFIX
from connectors.business_central.sandbox.server import CLIENT_ID as BC_CLIENT_ID
from connectors.business_central.sandbox.server import CLIENT_SECRET as BC_CLIENT_SECRET
from connectors.models import SECRET_FIELDS, Connection
from expensico_sync.core.models import Membership

pytestmark = pytest.mark.django_db

WORKDAY_URL = "https://wd2-impl-services1.workday.com/ccx/service/acme/Financial_Management/v30.0"
VENDORS = {
    "wafeq": dict(system="wafeq", base_url="https://api.wafeq.com/v1", api_key="wafeq-SECRET-apikey"),
    "wafeq_oauth": dict(system="wafeq", base_url="https://api.wafeq.com/v1", auth_method="oauth2", client_id="cid",
                        client_secret="wafeq-SECRET-client", access_token="wafeq-SECRET-access",
                        refresh_token="wafeq-SECRET-refresh"),
    "xledger": dict(system="xledger", base_url="https://www.xledger.net", api_key="xledger-SECRET-token"),
    "workday": dict(system="workday", base_url=WORKDAY_URL, client_id="isu_expensico",
                    api_key="workday-SECRET-password", settings={"company": "ACME"}),
    "apideck": dict(system="apideck", base_url="https://unify.apideck.com", api_key="apideck-SECRET-key",
                    settings={"app_id": "app", "consumer_id": "acme"}),
    "moon_erp": dict(system="moon_erp", base_url="https://acme.moon-erp.test", api_key="moon-SECRET-token"),
}


def client_for(org, role: str) -> APIClient:
    user = get_user_model().objects.create_user(role, f"{role}@example.com", "pw-123456789")
    Membership.objects.create(user=user, organization=org, role=role)
    client = APIClient()
    client.force_authenticate(user)
    return client


def secrets_of(conn: Connection) -> list[str]:
    return [getattr(conn, name) for name in SECRET_FIELDS if getattr(conn, name)]


def move_and_use(api, conn: Connection, new_base_url: str) -> Connection:
    moved = api.patch(f"/api/v1/connections/{conn.pk}/", {"base_url": new_base_url}, format="json")
    assert moved.status_code == 200, moved.content
    api.post(f"/api/v1/connections/{conn.pk}/check/")
    api.get(f"/api/v1/connections/{conn.pk}/catalog/", {"kind": "accounts", "refresh": "true"})
    return Connection.objects.get(pk=conn.pk)


@pytest.mark.parametrize("vendor", sorted(VENDORS))
def test_moving_a_connection_clears_its_secrets_and_sends_none(vendor, org, listener):
    spec = dict(VENDORS[vendor])
    conn = Connection.objects.create(organization=org, name=vendor, status="connected",
                                     token_expires_at=timezone.now() + timedelta(hours=1), **spec)
    stored = secrets_of(conn)
    moved = move_and_use(client_for(org, "finance_admin"), conn, f"{listener.url}/v1")
    assert listener.leaked(*stored) == []
    assert secrets_of(moved) == [] and moved.token_expires_at is None
    assert moved.status != Connection.Status.CONNECTED


def test_business_central_moved_gets_no_token(org, listener):
    """BC's credential is a client secret exchanged at Entra (the sandbox here) for a bearer token:
    with the secret still stored, the token would go to the new host."""
    server = bc_testkit.start_sandbox()
    try:
        conn = Connection.objects.create(
            organization=org, system="business_central", name="bc", auth_method="client_credentials",
            base_url=f"{server.base_url}{API_PREFIX}".rstrip("/"), client_id=BC_CLIENT_ID,
            client_secret=BC_CLIENT_SECRET,
            settings={"authority_host": server.base_url, "ca_bundle": server.app.ca_bundle, "read_timeout": 5})
        moved = move_and_use(client_for(org, "finance_admin"), conn, f"{listener.url}{API_PREFIX}".rstrip("/"))
    finally:
        server.stop()
    assert listener.leaked(BC_CLIENT_SECRET) == []
    assert secrets_of(moved) == []


def test_secret_sent_again_with_the_move_is_kept(org, listener):
    conn = Connection.objects.create(organization=org, **VENDORS["wafeq"], name="w")
    api = client_for(org, "owner")
    key = VENDORS["wafeq"]["api_key"]   # the same key, typed again: the person chose to send it there
    moved = api.patch(f"/api/v1/connections/{conn.pk}/", {"base_url": f"{listener.url}/v1", "api_key": key},
                      format="json")
    assert moved.status_code == 200
    conn.refresh_from_db()
    assert conn.api_key == key
    api.post(f"/api/v1/connections/{conn.pk}/check/")
    assert listener.requests[0].headers["Authorization"] == f"Api-Key {key}"


def test_changes_elsewhere_keep_the_secrets(org):
    conn = Connection.objects.create(organization=org, **VENDORS["wafeq"], name="w")
    api = client_for(org, "owner")
    renamed = api.patch(f"/api/v1/connections/{conn.pk}/", {"name": "Books", "base_url": "https://api.wafeq.com/v2"},
                        format="json")
    assert renamed.status_code == 200
    conn.refresh_from_db()
    assert conn.api_key == VENDORS["wafeq"]["api_key"], "same scheme, host and port: the credential stays"
