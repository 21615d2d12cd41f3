"""`make run` seeding and the admin setup flow for Business Central."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from connectors.business_central.sandbox import devstack
from connectors.models import Connection

pytestmark = pytest.mark.django_db


def test_seed_connects_and_is_idempotent(org, bc_server, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    (tmp_path / "business-central-sandbox-tls").mkdir()
    (tmp_path / "business-central-sandbox-tls" / "cert.pem").write_text(open(bc_server.app.ca_bundle).read())
    ctx = {"base_url": "http://127.0.0.1:8000", "organization": org, "business_central_base_url": bc_server.base_url}
    devstack.seed(ctx)
    conn = Connection.objects.get(pk=ctx["business_central_connection_id"])
    assert conn.status == Connection.Status.CONNECTED and conn.auth_method == Connection.AuthMethod.CLIENT_CREDENTIALS
    assert conn.employee_claims_account and conn.employees_balance_account and conn.funding_bank_account
    sizes = {k: len(v) for k, v in bc_server.app.sets.items()}
    devstack.seed(ctx)
    assert Connection.objects.filter(organization=org).count() == 1
    assert {k: len(v) for k, v in bc_server.app.sets.items()} == sizes


def test_processes_start_the_sandbox_on_8811():
    ctx = {}
    (name, argv), = devstack.processes(ctx)
    assert name == "business-central-sandbox" and argv[2:6] == ["sandbox", "business_central", "--port", "8811"]
    assert ctx["business_central_base_url"] == "https://127.0.0.1:8811"


def test_admin_setup_page_offers_bc_accounts_and_saves_a_choice(client, bc_connection, bc_server):
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "pw-123456789"))
    url = reverse("admin:connectors_connection_setup", args=[bc_connection.pk])
    page = client.post(url, {"step": "fetch"}, follow=True).content.decode()  # loading the catalog is a POST
    assert "Employee Reimbursements" in page and "Barclays Current" in page and "Travel" in page
    existing = next(a for a in bc_server.app.sets["accounts"].values() if a["number"] == "2120")
    assert client.post(url, {"step": "accounts", "employee_claims": existing["id"]}).status_code == 302
    bc_connection.refresh_from_db()
    assert bc_connection.employee_claims_account == existing["id"]
    assert bc_connection.employee_claims_account_name == "Employee Reimbursements"
    change = client.get(reverse("admin:connectors_connection_change", args=[bc_connection.pk])).content.decode()
    assert bc_connection.client_secret not in change, "secrets are write-only"
