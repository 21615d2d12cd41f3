"""The export records list and record page link the external id to the vendor's document where
the connector has an address for it; otherwise the id is plain text whose title says so."""

import pytest
from django.urls import reverse

from connectors.models import Connection
from tests.core.factories import make_org
from tests.exports.factories import make_record

pytestmark = pytest.mark.django_db
BC_BASE = "https://api.businesscentral.dynamics.com/v2.0/contoso/production/api/v2.0"


def test_linked_where_the_vendor_has_an_address_and_titled_where_not(admin_client):
    org = make_org("doclinks")
    books = Connection.objects.create(organization=org, system="business_central", name="BC books", base_url=BC_BASE,
                                      settings={"company_name": "CRONUS", "post": True})
    linked = make_record(org, connection=books, status="exported", external_id="GJ:EXP-00AA")
    plain = make_record(org, status="exported", external_id="plain-77")   # the test vendor: no address
    listing = admin_client.get(reverse("admin:exports_exportrecord_changelist")).content.decode()
    page = admin_client.get(reverse("admin:exports_exportrecord_change", args=[linked.pk])).content.decode()
    for html in (listing, page):
        assert 'href="https://businesscentral.dynamics.com/contoso/production/?company=CRONUS&amp;page=20' in html
        assert 'title="Open in Dynamics 365 Business Central">GJ:EXP-00AA</a>' in html
    other = admin_client.get(reverse("admin:exports_exportrecord_change", args=[plain.pk])).content.decode()
    assert "publishes no link to this document: look it up there by this id.\">plain-77</span>" in other
    assert "plain-77</a>" not in other
