"""A Moon ERP connection set up through the admin alone: add form → test → setup page → save."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from connectors.models import Connection
from connectors.moon_erp.sandbox import testkit
from connectors.moon_erp.sandbox.server import FULL_TOKEN
from mappings.models import RemoteCatalogItem
from mappings.services import catalog_refresh
from mappings.suggest import suggest_accounts
from tests.conftest import admin_confirm

pytestmark = pytest.mark.django_db


@pytest.fixture
def server():
    srv = testkit.start_sandbox()
    yield srv
    srv.stop()


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw-123456789")
    client.force_login(user)
    return client


def test_setup_through_the_admin(admin_client, server, org):
    add = admin_client.post(reverse("admin:connectors_connection_add") + "?system=moon_erp&auth=token", {
        "organization": org.pk, "name": "Moon", "base_url": server.base_url, "api_key": FULL_TOKEN,
        # An explicit rate: Moon's default of 1 request/s would make this test wait ~10 s.
        "setting___shown": "1", "setting__rate_limit_per_second": "50"})
    assert add.status_code == 302, add.context["form"].errors
    conn = Connection.objects.get(name="Moon")
    assert not conn.active and conn.settings["rate_limit_per_second"] == 50   # inactive until activated
    admin_confirm(admin_client, reverse("admin:connectors_connection_test_connection", args=[conn.pk]))
    conn.refresh_from_db()
    assert conn.status == Connection.Status.CONNECTED and conn.last_check_ok
    assert "Moon Trading Co." in conn.last_check_detail

    url = reverse("admin:connectors_connection_setup", args=[conn.pk])
    page = admin_client.post(url, {"step": "fetch"}, follow=True).content.decode()  # loading the catalog is a POST
    assert "Employee Advances" in page and "SNB Main" in page and "Meals" in page
    assert admin_client.post(url, {"step": "accounts", "employees_balance": "3", "funding_bank": "1"}).status_code == 302
    conn.refresh_from_db()
    assert (conn.employees_balance_account, conn.employees_balance_account_name) == ("3", "Employee Advances")
    assert (conn.funding_bank_account, conn.settings["funding_bank_gl_account"]) == ("1", "2")
    assert conn.employee_claims_account_name == "Expensico – Employee Claims"
    created = [a for a in server.app.ledger()["accounts"] if a["name"] == "Expensico – Employee Claims"]
    assert len(created) == 1 and created[0]["type"] == "liability"


def test_mapping_catalog_offers_categories_not_gl_accounts(server, org):
    conn = testkit.connect(server, org)
    catalog_refresh(connection=conn)
    assert RemoteCatalogItem.objects.filter(connection=conn, kind="dimensions", classification="branch").count() == 2
    suggestions = suggest_accounts(connection=conn, text="Meals", limit=10)
    assert suggestions[0].remote_id == "category:3"
    assert all(s.remote_id.startswith("category:") for s in suggestions)


def test_devstack_seed_is_idempotent(server, org, capsys, monkeypatch):
    from connectors.moon_erp import client
    from connectors.moon_erp.sandbox import devstack

    monkeypatch.setattr(client, "RATE_PER_SECOND", 50)   # the seed's own default, at a test's pace

    ctx = {"moon_erp_base_url": server.base_url, "organization": org}
    devstack.seed(ctx)
    devstack.seed(ctx)
    conn = Connection.objects.get(pk=ctx["moon_erp_connection_id"])
    assert conn.status == Connection.Status.CONNECTED and conn.funding_bank_account_name == "Expensico Bank Account"
    names = [a["name"] for a in server.app.ledger()["accounts"]]
    assert names.count("Expensico – Employee Claims") == 1 and names.count("Expensico Bank Account") == 1
    assert Connection.objects.filter(system="moon_erp").count() == 1
    assert "moon erp: Moon ERP (sandbox) connected" in capsys.readouterr().out
    cmd = devstack.processes({})
    assert cmd[0][1][2:5] == ["sandbox", "moon_erp", "--port"]
