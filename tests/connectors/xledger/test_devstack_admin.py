"""`make run` seeding and the admin setup flow for Xledger."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from connectors.models import Connection
from connectors.xledger.sandbox import devstack

pytestmark = pytest.mark.django_db


def test_seed_connects_and_is_idempotent(org, xl_server):
    ctx = {"base_url": "http://127.0.0.1:8000", "organization": org, "xledger_base_url": xl_server.base_url}
    devstack.seed(ctx)
    conn = Connection.objects.get(pk=ctx["xledger_connection_id"])
    assert conn.status == Connection.Status.CONNECTED and conn.auth_method == Connection.AuthMethod.TOKEN
    assert conn.employee_claims_account and conn.employees_balance_account and conn.funding_bank_account
    sizes = {k: len(v) for k, v in xl_server.app.tables.items()}
    devstack.seed(ctx)
    assert Connection.objects.filter(organization=org).count() == 1
    assert {k: len(v) for k, v in xl_server.app.tables.items()} == sizes


def test_processes_start_the_sandbox_on_8812():
    ctx = {}
    (name, argv), = devstack.processes(ctx)
    assert name == "xledger-sandbox" and argv[2:6] == ["sandbox", "xledger", "--port", "8812"]


def test_admin_shows_the_setup_and_the_monthly_request_count(client, xl_connection, xl_server):
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "pw-123456789"))
    url = reverse("admin:connectors_connection_setup", args=[xl_connection.pk])
    page = client.post(url, {"step": "fetch"}, follow=True).content.decode()  # loading the catalog is a POST
    assert "Skyldig reiseregninger" in page and "DNB driftskonto" in page and "Reisekostnad" in page
    existing = next(a for a in xl_server.app.tables["accounts"] if a["code"] == "2930")
    assert client.post(url, {"step": "accounts", "employee_claims": existing["dbId"]}).status_code == 302
    xl_connection.refresh_from_db()
    assert xl_connection.employee_claims_account == existing["dbId"]
    index = client.get(reverse("admin:index")).content.decode()
    assert "Xledger requests this month" in index and "/ 5,000" in index
    change = client.get(reverse("admin:connectors_connection_change", args=[xl_connection.pk])).content.decode()
    assert xl_connection.api_key not in change, "the token is write-only"
