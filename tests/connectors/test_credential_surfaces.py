"""Moving where a credential goes clears it on every surface (admin form, services), and a viewer's
catalog request never calls the vendor."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from connectors.models import CLEARED_DETAIL, Connection
from connectors.services import connection_catalog_fetch, connection_check
from connectors.wafeq.sandbox.server import API_KEY
from expensico_sync.core.models import Membership

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw-123456789")
    client.force_login(user)
    return client


def api_as(org, role: str) -> APIClient:
    user = get_user_model().objects.create_user(role, f"{role}@example.com", "pw-123456789")
    Membership.objects.create(user=user, organization=org, role=role)
    client = APIClient()
    client.force_authenticate(user)
    return client


def stored(org, **extra) -> Connection:
    return Connection.objects.create(organization=org, system="wafeq", name="Wafeq", base_url="https://api.wafeq.com/v1",
                                     auth_method="oauth2", client_id="cid", client_secret="SECRET-client",
                                     access_token="SECRET-access", refresh_token="SECRET-refresh",
                                     token_expires_at=timezone.now() + timedelta(hours=1), status="connected", **extra)


def form_data(conn: Connection, **changes) -> dict:
    data = {"organization": conn.organization_id, "system": conn.system, "name": conn.name, "base_url": conn.base_url,
            "auth_method": conn.auth_method, "api_key": "", "client_id": conn.client_id, "client_secret": "",
            "settings": "{}", "_save": "Save"}
    return {**data, **changes}


# --- admin form ------------------------------------------------------------------------------

def test_admin_form_move_clears_every_secret(admin_client, org, listener):
    conn = stored(org)
    url = reverse("admin:connectors_connection_change", args=[conn.pk])
    response = admin_client.post(url, form_data(conn, base_url=f"{listener.url}/v1"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    conn.refresh_from_db()
    assert (conn.base_url, conn.client_secret, conn.access_token, conn.refresh_token, conn.token_expires_at) == (
        f"{listener.url}/v1", "", "", "", None)
    assert conn.status == Connection.Status.NEW and conn.last_check_detail == CLEARED_DETAIL
    connection_check(connection=conn)
    assert listener.leaked("SECRET-client", "SECRET-access", "SECRET-refresh") == []


def test_admin_form_keeps_secrets_when_the_host_stays(admin_client, org):
    conn = stored(org)
    response = admin_client.post(reverse("admin:connectors_connection_change", args=[conn.pk]),
                                 form_data(conn, name="Books"))
    assert response.status_code == 302
    conn.refresh_from_db()
    assert (conn.name, conn.client_secret, conn.access_token) == ("Books", "SECRET-client", "SECRET-access")


def test_admin_form_keeps_a_secret_typed_with_the_move(admin_client, org, listener):
    conn = stored(org)
    admin_client.post(reverse("admin:connectors_connection_change", args=[conn.pk]),
                      form_data(conn, base_url=f"{listener.url}/v1", client_secret="SECRET-typed"))
    conn.refresh_from_db()
    assert (conn.client_secret, conn.access_token) == ("SECRET-typed", "")


@pytest.mark.parametrize(("field", "changes"), [
    ("base_url", {"base_url": "https://collector.evil.io/v1"}),
    ("settings", {"settings": '{"oauth_token_url": "https://collector.evil.io/token"}'}),
])
def test_admin_form_refuses_foreign_hosts(admin_client, org, settings, field, changes):
    settings.VENDOR_HOSTS_ALLOW = []
    conn = stored(org)
    response = admin_client.post(reverse("admin:connectors_connection_change", args=[conn.pk]),
                                 form_data(conn, **changes))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == [field] and "VENDOR_HOSTS_ALLOW" in errors[field][0]
    conn.refresh_from_db()
    assert conn.base_url == "https://api.wafeq.com/v1" and conn.settings == {}


# --- services (the model) ---------------------------------------------------------------------

def test_service_save_clears_secrets_on_a_move(org, listener):
    conn = stored(org)
    conn.base_url = f"{listener.url}/v1"
    conn.save()
    fresh = Connection.objects.get(pk=conn.pk)
    assert (fresh.client_secret, fresh.access_token, fresh.refresh_token) == ("", "", "")


def test_moving_a_token_url_setting_clears_secrets(org, listener):
    conn = stored(org)
    conn.settings = {"oauth_token_url": f"{listener.url}/oauth/token/"}
    conn.save(update_fields=["settings", "updated_at"])
    fresh = Connection.objects.get(pk=conn.pk)
    assert (fresh.client_secret, fresh.refresh_token) == ("", "")


def test_port_or_scheme_changes_are_moves(org):
    for url in ("https://api.wafeq.com:8443/v1", "http://api.wafeq.com/v1"):
        conn = stored(org, api_key="SECRET-key")
        conn.base_url = url
        conn.save()
        assert Connection.objects.get(pk=conn.pk).api_key == ""
        conn.delete()


def test_supplied_secrets_survive_and_other_saves_keep_secrets(org, listener):
    conn = stored(org)
    conn.base_url = f"{listener.url}/v1"
    conn.supply_credentials(client_secret="SECRET-client")   # the same secret, entered again with the move
    conn.save()
    fresh = Connection.objects.get(pk=conn.pk)
    assert (fresh.client_secret, fresh.access_token) == ("SECRET-client", "")
    fresh.refresh_from_db()                       # a refresh is not a move
    fresh.status = "connected"
    fresh.save()
    assert Connection.objects.get(pk=conn.pk).client_secret == "SECRET-client"


# --- catalog: viewers read the stored copy ------------------------------------------------------

def test_viewer_catalog_reads_the_stored_copy_and_never_calls_the_vendor(org, listener, wafeq_server):
    conn = Connection.objects.create(organization=org, system="wafeq", name="w", base_url=f"{listener.url}/v1",
                                     api_key="SECRET-key")
    viewer, manager = api_as(org, "viewer"), api_as(org, "finance_admin")
    url = f"/api/v1/connections/{conn.pk}/catalog/"
    empty = viewer.get(url, {"kind": "accounts"})
    assert empty.status_code == 200 and empty.json() == [] and empty["X-Catalog-Source"] == "none"
    assert viewer.get(url, {"kind": "accounts", "refresh": "true"}).status_code == 403
    assert listener.requests == []
    manager.get(url, {"kind": "accounts", "refresh": "true"})
    assert len(listener.requests) == 1, "a manager's refresh does reach the vendor"
    # The stored copy, once a manager fetched it from a real (sandbox) vendor.
    Connection.objects.filter(pk=conn.pk).update(base_url=f"{wafeq_server.base_url}/v1", api_key=API_KEY)
    connection_catalog_fetch(connection=Connection.objects.get(pk=conn.pk), kind="accounts")
    seen = []
    wafeq_server.app.observers.append(lambda request, response: seen.append(request))
    cached = viewer.get(url, {"kind": "accounts", "classification": "EXPENSE"})
    assert cached["X-Catalog-Source"] == "cache" and cached["X-Catalog-Fetched-At"]
    assert len(cached.json()) == 8 and {i["classification"] for i in cached.json()} == {"EXPENSE"}
    assert seen == []
