"""/api/v1/connections/: create, check, catalog, configure; secrets never come back."""

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from connectors.models import Connection
from connectors.wafeq.sandbox.server import API_KEY
from expensico_sync.core.models import Membership

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(org):
    user = get_user_model().objects.create_user("fin", "fin@example.com", "pw-123456789")
    Membership.objects.create(user=user, organization=org, role="owner")
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_create_check_catalog_configure(api, org, wafeq_server):
    created = api.post("/api/v1/connections/", {"organization": org.pk, "system": "wafeq", "name": "Wafeq",
                                                 "base_url": f"{wafeq_server.base_url}/v1", "api_key": API_KEY},
                       format="json")
    assert created.status_code == 201, created.content
    assert "api_key" not in created.json() and API_KEY not in created.content.decode()
    pk = created.json()["id"]
    check = api.post(f"/api/v1/connections/{pk}/check/")
    assert check.status_code == 200 and check.json()["ok"] and check.json()["organization_name"]
    catalog = api.get(f"/api/v1/connections/{pk}/catalog/", {"kind": "accounts", "classification": "EXPENSE",
                                                             "refresh": "true"})
    assert catalog.status_code == 200 and len(catalog.json()) == 8 and catalog["X-Catalog-Source"] == "vendor"
    cached = api.get(f"/api/v1/connections/{pk}/catalog/", {"kind": "accounts", "classification": "EXPENSE"})
    assert cached["X-Catalog-Source"] == "cache" and cached.json() == [dict(a, extra={}, active=True)
                                                                         for a in catalog.json()]
    travel = next(a for a in catalog.json() if a["name"] == "Travel")
    assert travel["remote_id"].startswith("acc_")
    configured = api.post(f"/api/v1/connections/{pk}/configure/", {}, format="json")
    assert configured.status_code == 200, configured.content
    body = configured.json()
    assert body["employee_claims_account_name"] == "Expensico – Employee Claims"
    assert body["funding_bank_account"].startswith("ba_")
    again = api.post(f"/api/v1/connections/{pk}/configure/", {}, format="json").json()
    assert again["employee_claims_account"] == body["employee_claims_account"]


def test_configure_rejects_unknown_remote_id(api, wafeq_connection):
    response = api.post(f"/api/v1/connections/{wafeq_connection.pk}/configure/",
                        {"employee_claims_account": "acc_nope"}, format="json")
    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"


def test_bad_key_reports_expired(api, org, wafeq_server):
    conn = Connection.objects.create(organization=org, system="wafeq", name="bad",
                                     base_url=f"{wafeq_server.base_url}/v1", api_key="wrong")
    body = api.post(f"/api/v1/connections/{conn.pk}/check/").json()
    assert body["ok"] is False and "AuthExpired" in body["detail"]
    conn.refresh_from_db()
    assert conn.status == Connection.Status.EXPIRED


def test_check_over_an_answer_missing_a_key_is_a_502_naming_it(api, wafeq_connection, wafeq_server):
    wafeq_server.app.inject("malformed", path="/organization/", drop=["financial_settings"])
    response = api.post(f"/api/v1/connections/{wafeq_connection.pk}/check/")
    assert response.status_code == 502, response.content
    assert response.json() == {"type": "vendor_error", "errors": [
        {"code": "unexpected_answer", "detail": "UnexpectedAnswer: Wafeq's answer has no 'financial_settings'",
         "attr": None}]}
    wafeq_connection.refresh_from_db()
    assert wafeq_connection.status == Connection.Status.ERROR and "financial_settings" in wafeq_connection.last_check_detail


def test_configure_over_a_created_account_without_id_is_a_502_naming_it(api, org, wafeq_server):
    conn = Connection.objects.create(organization=org, system="wafeq", name="w", base_url=f"{wafeq_server.base_url}/v1",
                                     api_key=API_KEY)
    wafeq_server.app.inject("malformed", method="POST", path="/accounts/", drop=["id"])
    response = api.post(f"/api/v1/connections/{conn.pk}/configure/", {}, format="json")
    assert response.status_code == 502, response.content
    body = response.json()
    assert body["type"] == "vendor_error" and body["errors"][0]["code"] == "unexpected_answer"
    assert "has no 'id'" in body["errors"][0]["detail"]


def test_catalog_over_a_list_where_an_object_belongs_is_a_502(api, wafeq_connection, wafeq_server):
    wafeq_server.app.inject("malformed", path="/accounts/", body=[])
    response = api.get(f"/api/v1/connections/{wafeq_connection.pk}/catalog/", {"kind": "accounts", "refresh": "true"})
    assert response.status_code == 502, response.content
    assert response.json()["errors"][0]["code"] == "unexpected_answer"


def test_other_organisations_connections_are_invisible(api, wafeq_server):
    from expensico_sync.core.services import organization_create
    other = organization_create(slug="other", name="Other", base_currency="SAR", country="SA")
    hidden = Connection.objects.create(organization=other, system="wafeq", name="x", base_url="http://127.0.0.1:9/v1")
    assert api.get(f"/api/v1/connections/{hidden.pk}/").status_code == 404
    created = api.post("/api/v1/connections/", {"organization": other.pk, "system": "wafeq", "name": "y",
                                                 "base_url": "http://127.0.0.1:9/v1"}, format="json")
    assert created.status_code in (400, 403)


def test_oauth_start_returns_authorize_url(api, org, wafeq_server):
    conn = Connection.objects.create(organization=org, system="wafeq", name="o", base_url=f"{wafeq_server.base_url}/v1",
                                     auth_method="oauth2", client_id="c", client_secret="s")
    response = api.post(f"/api/v1/connections/{conn.pk}/oauth-start/",
                        {"redirect_uri": "http://testserver/admin/connectors/connection/oauth/callback/"}, format="json")
    assert response.status_code == 201
    assert response.json()["authorize_url"].startswith(f"{wafeq_server.base_url}/oauth/authorize/?")


def test_schema_documents_the_endpoints(api):
    schema = api.get("/api/schema/", {"format": "json"}).json()
    for path in ("/api/v1/connections/", "/api/v1/connections/{id}/check/", "/api/v1/connections/{id}/catalog/",
                 "/api/v1/connections/{id}/configure/"):
        assert path in schema["paths"], path
