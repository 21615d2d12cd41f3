"""The shared admin setup flow works for a Workday-via-Apideck connection."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from connectors.apideck.schema import encode_account_id

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.com", "pw-123456789"))
    return client


def test_setup_page_offers_accounts_and_saves_a_choice(admin_client, apideck_connection):
    url = reverse("admin:connectors_connection_setup", args=[apideck_connection.pk])
    page = admin_client.post(url, {"step": "fetch"}, follow=True).content.decode()  # loading the catalog is a POST
    assert "Expensico – Employee Claims" in page and "Cash - Operating" in page
    bank = encode_account_id("1000", "Standard")
    assert admin_client.post(url, {"step": "accounts", "funding_bank": bank}).status_code == 302
    apideck_connection.refresh_from_db()
    assert apideck_connection.funding_bank_account == bank
    change = admin_client.get(reverse("admin:connectors_connection_change", args=[apideck_connection.pk]))
    assert change.status_code == 200 and apideck_connection.api_key not in change.content.decode()
