"""The vendor's own document number is kept on the export record (Moon ERP's `document_number`,
Business Central's journal document number), shown in the API and the admin, and searchable
there by prefix or exactly."""

import pytest
from django.urls import reverse

from expensico_sync.core.roles import Role
from expensico_sync.core.services import api_key_create
from exports.transitions import Status
from tests.core.factories import make_member

from .test_preflight import _work

pytestmark = pytest.mark.django_db
LIST = "/api/v1/accounting-exports"


@pytest.fixture(params=["moon_erp", "business_central"])
def system(request):
    return request.param


def test_the_vendors_document_number_is_stored_shown_and_searchable(connection, kit, sandbox, monkeypatch, client):
    entry = kit.sample_entry(sandbox, connection, "EXPENSICO-docno_1-v1")
    record = _work(connection, entry, monkeypatch)
    assert record.status == Status.EXPORTED, record.last_error
    number = record.vendor_document_number
    held = kit.held(sandbox, entry.reference)
    if connection.system == "moon_erp":
        assert number == held[0]["document_number"]                 # e.g. EXP-2026-0001
    else:
        assert number and record.external_id == f"GJ:{number}"       # the journal's Document No.
    org = connection.organization
    _, key = api_key_create(organization=org, role=Role.FINANCE_ADMIN, name="erp")
    api = {"HTTP_AUTHORIZATION": f"Api-Key {key}"}
    body = client.get(LIST, {"document_number": number.lower()}, **api).json()
    assert [r["vendor_document_number"] for r in body["results"]] == [number]
    assert [r["id"] for r in client.get(LIST, {"document_number_prefix": number[:4]}, **api).json()["results"]] \
        == [record.pk]
    assert client.get(LIST, {"document_number": number + "9"}, **api).json()["results"] == []

    client.force_login(make_member(org, Role.FINANCE_ADMIN, "fiona"))
    page = client.get(reverse("admin:exports_exportrecord_changelist"), {"q": number[:5]})
    assert page.status_code == 200 and number in page.content.decode()
