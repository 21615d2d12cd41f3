"""`make run` seeding: the demo org connects through the real OAuth flow, idempotently."""

import pytest

from connectors.models import Connection
from connectors.wafeq.sandbox import devstack

pytestmark = pytest.mark.django_db


def test_seed_connects_via_oauth_and_is_idempotent(org, wafeq_server):
    ctx = {"base_url": "http://127.0.0.1:8000", "organization": org, "wafeq_base_url": wafeq_server.base_url}
    devstack.seed(ctx)
    conn = Connection.objects.get(pk=ctx["connection_id"])
    assert conn.auth_method == Connection.AuthMethod.OAUTH2 and conn.status == Connection.Status.CONNECTED
    assert conn.refresh_token and conn.employee_claims_account and conn.funding_bank_account
    assert wafeq_server.app.token_requests == 1
    counts = {k: len(v) for k, v in wafeq_server.app.store.items()}
    devstack.seed(ctx)
    assert Connection.objects.filter(organization=org).count() == 1
    assert {k: len(v) for k, v in wafeq_server.app.store.items()} == counts
    assert wafeq_server.app.token_requests == 1, "a working token is reused, not re-authorised"


def test_processes_start_the_sandbox_on_8801():
    ctx = {}
    (name, argv), = devstack.processes(ctx)
    assert name == "wafeq-sandbox" and argv[2:6] == ["sandbox", "wafeq", "--port", "8801"]
    assert ctx["wafeq_base_url"] == "http://127.0.0.1:8801"


def test_processes_move_by_the_port_offset():
    ctx = {"port_offset": 1000}  # `devstack --port-offset 1000`: a second devstack beside the first
    (name, argv), = devstack.processes(ctx)
    assert argv[4:6] == ["--port", "9801"] and ctx["wafeq_base_url"] == "http://127.0.0.1:9801"
