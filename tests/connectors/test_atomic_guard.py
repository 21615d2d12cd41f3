"""No request leaves inside transaction.atomic; the OAuth refresh under its row lock is the one exception."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from connectors.atomic_guard import remote_call_in_atomic
from connectors.base import connector_for
from connectors.errors import RemoteCallInTransaction
from connectors.models import CallLog, Connection
from connectors.oauth import oauth_authorization_finish, oauth_authorization_start
from connectors.wafeq.client import WafeqClient
from tests.connectors.test_oauth import REDIRECT, connect, oauth_connection

pytestmark = pytest.mark.django_db


def book_inside_a_transaction(stack):
    with transaction.atomic():
        return stack.call("GET", "/organization/")


def test_a_send_inside_atomic_is_refused_naming_the_caller(wafeq_connection, wafeq_server):
    stack = WafeqClient(wafeq_connection)
    seen, logged = wafeq_server.app.requests_seen, CallLog.objects.count()
    with pytest.raises(RemoteCallInTransaction) as exc:
        book_inside_a_transaction(stack)
    message = str(exc.value)
    assert "GET " in message and "/organization/" in message
    assert "connectors.wafeq.client.WafeqClient.call" in message
    assert "test_atomic_guard.book_inside_a_transaction" in message
    assert wafeq_server.app.requests_seen == seen, "nothing was sent"
    assert CallLog.objects.count() == logged


def test_the_test_case_transaction_alone_does_not_count(wafeq_connection):
    # pytest-django's `db` wraps this test in atomic blocks of its own; they are not the code's.
    assert WafeqClient(wafeq_connection).call("GET", "/organization/").status == 200


def test_a_library_session_is_refused_too(org, wafeq_server):
    """Authlib's token exchange goes through the host guard, not through HttpStack._send."""
    from connectors.wafeq.sandbox.devstack import _approve
    conn = oauth_connection(org, wafeq_server)
    params = _approve(oauth_authorization_start(connection=conn, redirect_uri=REDIRECT))
    with pytest.raises(RemoteCallInTransaction, match="POST .*/oauth/token/"), transaction.atomic():
        oauth_authorization_finish(state=params["state"], code=params["code"])


def test_the_oauth_refresh_under_its_row_lock_is_let_through(org, wafeq_server):
    conn = connect(org, wafeq_server)
    old = conn.access_token
    Connection.objects.filter(pk=conn.pk).update(token_expires_at=timezone.now() - timedelta(seconds=1))
    conn.refresh_from_db()
    assert connector_for(conn).check().ok      # refreshes inside oauth_token_refresh's atomic block
    conn.refresh_from_db()
    assert conn.access_token != old
    # The exception ends with the refresh: the same connector inside a transaction is refused.
    with pytest.raises(RemoteCallInTransaction), transaction.atomic():
        connector_for(conn).check()


def test_an_exception_must_say_why():
    with pytest.raises(ValueError), remote_call_in_atomic(reason=" "):
        pass
