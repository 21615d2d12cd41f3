"""Authorization code + PKCE against the sandbox over HTTP, refresh, rotation under a row lock."""

import threading
from datetime import timedelta

import pytest
from django.db import connection as db_connection
from django.utils import timezone

from connectors.base import connector_for
from connectors.errors import AuthExpired
from connectors.models import Connection
from connectors.oauth import oauth_authorization_finish, oauth_authorization_start
from connectors.services import connection_create
from connectors.wafeq.sandbox.devstack import _approve
from connectors.wafeq.sandbox.server import CLIENT_ID, CLIENT_SECRET

REDIRECT = "http://127.0.0.1:8000/admin/connectors/connection/oauth/callback/"


def oauth_connection(org, server) -> Connection:
    return connection_create(organization=org, system="wafeq", name="Wafeq OAuth", base_url=f"{server.base_url}/v1",
                             auth_method=Connection.AuthMethod.OAUTH2, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)


def connect(org, server) -> Connection:
    conn = oauth_connection(org, server)
    url = oauth_authorization_start(connection=conn, redirect_uri=REDIRECT)
    assert "code_challenge_method=S256" in url and "code_challenge=" in url
    params = _approve(url)
    return oauth_authorization_finish(state=params["state"], code=params["code"])


@pytest.mark.django_db
def test_authorization_code_with_pkce(org, wafeq_server):
    conn = connect(org, wafeq_server)
    assert conn.status == Connection.Status.CONNECTED and conn.access_token and conn.refresh_token
    assert connector_for(conn).check().ok


@pytest.mark.django_db
def test_denied_consent_and_replayed_state_fail(org, wafeq_server):
    conn = oauth_connection(org, wafeq_server)
    url = oauth_authorization_start(connection=conn, redirect_uri=REDIRECT)
    with pytest.raises(AuthExpired):
        oauth_authorization_finish(state=url.split("state=")[1].split("&")[0], error="access_denied")
    with pytest.raises(AuthExpired):
        oauth_authorization_finish(state="never-issued", code="x")


@pytest.mark.django_db
def test_wrong_pkce_verifier_is_rejected(org, wafeq_server):
    from django.core.cache import cache
    conn = oauth_connection(org, wafeq_server)
    url = oauth_authorization_start(connection=conn, redirect_uri=REDIRECT)
    params = _approve(url)
    pending = cache.get(f"oauth:{params['state']}")
    cache.set(f"oauth:{params['state']}", {**pending, "verifier": "x" * 60})
    with pytest.raises(AuthExpired, match="invalid_grant"):
        oauth_authorization_finish(state=params["state"], code=params["code"])


@pytest.mark.django_db
def test_expired_access_token_is_refreshed_before_the_call(org, wafeq_server):
    conn = connect(org, wafeq_server)
    old = conn.access_token
    wafeq_server.app.expire_access_tokens()
    Connection.objects.filter(pk=conn.pk).update(token_expires_at=timezone.now() - timedelta(seconds=1))
    conn.refresh_from_db()
    assert connector_for(conn).check().ok
    conn.refresh_from_db()
    assert conn.access_token != old


@pytest.mark.django_db
def test_401_triggers_one_refresh_then_succeeds(org, wafeq_server):
    conn = connect(org, wafeq_server)
    wafeq_server.app.expire_access_tokens()   # the vendor says no before our clock thinks so
    assert connector_for(conn).check().ok


@pytest.mark.django_db
def test_revoked_refresh_token_marks_connection_expired(org, wafeq_server):
    conn = connect(org, wafeq_server)
    wafeq_server.app.revoke_all_credentials()
    with pytest.raises(AuthExpired):
        connector_for(conn).check()
    conn.refresh_from_db()
    assert conn.status == Connection.Status.EXPIRED


@pytest.mark.django_db(transaction=True)
def test_concurrent_refresh_with_rotating_tokens_never_races(org, wafeq_server):
    """Two workers find the token expired at once. The vendor rotates refresh tokens, so a naive
    second refresh would present a dead token and expire the connection. Under the row lock the
    second worker waits and reuses the first one's token: one token request, both succeed."""
    if db_connection.vendor != "postgresql":
        pytest.skip("row locks across threads need PostgreSQL (run with DATABASE_URL=postgres://…)")
    wafeq_server.app.rotate_refresh_tokens = True
    conn = connect(org, wafeq_server)
    wafeq_server.app.expire_access_tokens()
    Connection.objects.filter(pk=conn.pk).update(token_expires_at=timezone.now() - timedelta(seconds=1))
    before = wafeq_server.app.token_requests
    results, errors = [], []

    def worker():
        try:
            own = Connection.objects.get(pk=conn.pk)
            results.append(connector_for(own).check().ok)
        except Exception as exc:  # noqa: BLE001 - the assertion below reports it
            errors.append(exc)
        finally:
            from django.db import connection as c
            c.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and results == [True] * 4
    assert wafeq_server.app.token_requests - before == 1
    conn.refresh_from_db()
    assert conn.status != Connection.Status.EXPIRED
