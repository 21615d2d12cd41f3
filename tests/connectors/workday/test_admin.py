"""The shared admin setup flow works for a Workday SOAP connection (no vendor-specific screens)."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "pw-123456789"))
    return client


def test_setup_page_offers_the_account_set_and_saves_a_choice(admin_client, workday_connection, workday_server):
    url = reverse("admin:connectors_connection_setup", args=[workday_connection.pk])
    page = admin_client.post(url, {"step": "fetch"}, follow=True).content.decode()  # loading the catalog is a POST
    assert "Expensico – Employee Claims" in page
    assert "Cash - Operating" in page, "Cash ledger accounts are offered as the funding bank"
    assert admin_client.post(url, {"step": "accounts", "funding_bank": "Standard/1000"}).status_code == 302
    workday_connection.refresh_from_db()
    assert workday_connection.funding_bank_account == "Standard/1000"
    assert workday_connection.funding_bank_account_name == "Cash - Operating"
    change = admin_client.get(reverse("admin:connectors_connection_change", args=[workday_connection.pk]))
    assert change.status_code == 200 and workday_connection.api_key not in change.content.decode()
