"""Opaque remote account ids (Apideck's base64 Workday ids) are shown readably on the mapping screens."""

import pytest
from django.urls import reverse

from connectors.apideck.sandbox import testkit
from connectors.apideck.schema import encode_account_id
from mappings.models import RemoteCatalogItem
from mappings.services import catalog_refresh
from tests.mappings.factories import make_category_mapping


@pytest.fixture
def apideck_connection(org):
    server = testkit.start_sandbox()
    yield testkit.connect(server, org)
    server.stop()


def test_apideck_account_ids_are_decoded_in_the_mapping_list_and_detail(client, owner, apideck_connection):
    client.force_login(owner)
    catalog_refresh(connection=apideck_connection)
    travel = encode_account_id("6100", "Standard")
    corporate = encode_account_id("6400", "Corporate")
    assert RemoteCatalogItem.objects.filter(connection=apideck_connection, remote_id=corporate).exists()
    named = make_category_mapping(apideck_connection, "TRV", account=travel, account_name="Travel")
    # Imported from a template: only the id, no name, so the id is all a person has to go on.
    unnamed = make_category_mapping(apideck_connection, "HQ", account=corporate, account_name="")

    listing = client.get(reverse("admin:mappings_categorymapping_changelist")).content.decode()
    assert "Standard / 6100" in listing and "Corporate / 6400" in listing
    assert travel not in listing and corporate not in listing

    detail = client.get(reverse("admin:mappings_categorymapping_change", args=[unnamed.pk])).content.decode()
    assert "Corporate / 6400" in detail
    detail = client.get(reverse("admin:mappings_categorymapping_change", args=[named.pk])).content.decode()
    assert "Standard / 6100" in detail


def test_other_connectors_ids_are_shown_as_they_are(client, owner, connection):
    client.force_login(owner)
    make_category_mapping(connection, "TRV", account="acc-6100", account_name="")
    listing = client.get(reverse("admin:mappings_categorymapping_changelist")).content.decode()
    assert "acc-6100" in listing
