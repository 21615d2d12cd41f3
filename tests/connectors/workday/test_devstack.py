"""`make run` seeding for the Workday SOAP sandbox: idempotent, through the real services."""

import pytest

from connectors.models import Connection
from connectors.workday.sandbox import devstack

pytestmark = pytest.mark.django_db


def test_seed_is_idempotent(org, workday_server):
    ctx = {"organization": org, "workday_base_url": workday_server.base_url}
    devstack.seed(ctx)
    conn = Connection.objects.get(pk=ctx["workday_connection_id"])
    assert conn.status == Connection.Status.CONNECTED and conn.funding_bank_account
    accounts = dict(workday_server.app.account_sets["Standard"]["accounts"])
    devstack.seed(ctx)
    assert Connection.objects.filter(organization=org).count() == 1
    assert workday_server.app.account_sets["Standard"]["accounts"] == accounts


def test_processes():
    ctx = {}
    (name, argv), = devstack.processes(ctx)
    assert name == "workday-sandbox" and argv[2:6] == ["sandbox", "workday", "--port", "8813"]
