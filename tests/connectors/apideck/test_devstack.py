"""`make run` seeding for the Apideck sandbox: idempotent, through the real services."""

import pytest

from connectors.apideck.sandbox import devstack
from connectors.models import Connection

pytestmark = pytest.mark.django_db


def test_seed_is_idempotent(org, apideck_server):
    ctx = {"organization": org, "apideck_base_url": apideck_server.base_url}
    devstack.seed(ctx)
    conn = Connection.objects.get(pk=ctx["apideck_connection_id"])
    assert conn.status == Connection.Status.CONNECTED and conn.employee_claims_account
    count = len(apideck_server.app.ledger_accounts)
    devstack.seed(ctx)
    assert Connection.objects.filter(organization=org).count() == 1
    assert len(apideck_server.app.ledger_accounts) == count


def test_processes():
    ctx = {}
    (name, argv), = devstack.processes(ctx)
    assert name == "apideck-sandbox" and argv[2:6] == ["sandbox", "apideck", "--port", "8814"]
