"""Typed connection settings: one class per vendor (registry `settings_class`), read as attributes
with defaults, validated by the API (400 naming `settings.<key>`) and the admin, documented in the
OpenAPI document, and shown as admin form fields."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

import expensico_sync.urls  # noqa: F401  (fills the router)
from connectors.business_central.settings import BusinessCentralSettings
from connectors.errors import Permanent
from connectors.http import HttpStack
from connectors.models import Connection
from connectors.moon_erp.settings import MoonErpSettings
from connectors.registry import vendors
from connectors.vendor_settings import VendorSettings
from connectors.xledger import lookup
from connectors.xledger.settings import XledgerSettings
from expensico_sync.core.models import Membership

pytestmark = pytest.mark.django_db


def _conn(org, system: str, settings: dict) -> Connection:
    return Connection.objects.create(organization=org, system=system, name=f"{system} books",
                                     base_url="http://127.0.0.1:9/", settings=settings)


@pytest.fixture
def api(org):
    user = get_user_model().objects.create_user("fin", "fin@example.com", "pw-123456789")
    Membership.objects.create(user=user, organization=org, role="owner")
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_every_vendor_names_a_settings_class_of_its_own():
    classes = [v.settings_type() for v in vendors()]
    assert all(issubclass(c, VendorSettings) and c is not VendorSettings for c in classes)
    assert len(set(classes)) == len(classes)


def test_settings_read_typed_with_defaults(org):
    conn = _conn(org, "business_central", {"post": "true", "window_limit": "300", "journal_id": "j-1"})
    typed = BusinessCentralSettings.of(conn)
    assert (typed.post, typed.window_limit, typed.journal_id) == (True, 300, "j-1")
    assert (typed.export_mode, typed.journal_code, typed.lcy) == ("journal", "EXPENSICO", "")


def test_the_common_keys_read_through_the_vendors_class(org):
    """http.py reads `VendorSettings.of(conn)`: Moon's own rate default applies, and the read
    timeout is read once by the stack for every client."""
    moon = _conn(org, "moon_erp", {"read_timeout": "7.5"})
    assert isinstance(VendorSettings.of(moon), MoonErpSettings)
    assert VendorSettings.of(moon).rate_limit_per_second == 1
    assert HttpStack(moon).timeout[1] == 7.5
    assert HttpStack(_conn(org, "wafeq", {})).timeout[1] == 60


def test_a_reassigned_settings_dict_is_read_again(org):
    conn = _conn(org, "xledger", {"lookup_filters_detected": False})
    assert lookup.mode(XledgerSettings.of(conn)) == "window"
    conn.settings = {**conn.settings, "lookup_filters_detected": True}
    assert lookup.mode(XledgerSettings.of(conn)) == "filter"


def test_a_stored_value_of_the_wrong_type_is_a_permanent_naming_the_setting(org):
    conn = _conn(org, "moon_erp", {"amount_tolerance": "a lot"})
    with pytest.raises(Permanent) as exc:
        MoonErpSettings.of(conn)
    assert (exc.value.code, exc.value.field) == ("invalid_setting", "settings.amount_tolerance")


def test_learned_settings_written_by_check_read_back(org):
    conn = _conn(org, "moon_erp", {})
    conn.settings = {**conn.settings, "company_id": "c-1", "company_currency": "SAR", "amount_tolerance": "0.01"}
    typed = MoonErpSettings.of(conn)
    assert (typed.company_id, typed.company_currency, typed.amount_tolerance) == ("c-1", "SAR", Decimal("0.01"))


def test_api_create_accepts_and_validates_settings(api, org):
    body = {"organization": org.pk, "system": "business_central", "name": "BC", "auth_method": "client_credentials",
            "base_url": "http://127.0.0.1:9/v2.0/t/production/api/v2.0"}
    bad = api.post("/api/v1/connections/", {**body, "settings": {"journal_code": "OURS", "post": "maybe",
                                                                  "jurnal_id": "x"}}, format="json")
    assert bad.status_code == 400, bad.content
    attrs = {e["attr"] for e in bad.json()["errors"]}
    assert attrs == {"settings.post", "settings.jurnal_id"}
    assert not Connection.objects.filter(name="BC").exists()
    good = api.post("/api/v1/connections/", {**body, "settings": {"journal_code": "OURS", "post": "true",
                                                                   "window_limit": "300"}}, format="json")
    assert good.status_code == 201, good.content
    assert good.json()["settings"] == {"journal_code": "OURS", "post": True, "window_limit": 300}
    assert Connection.objects.get(name="BC").settings == {"journal_code": "OURS", "post": True, "window_limit": 300}


def test_api_patch_merges_settings_and_a_bad_value_changes_nothing(api, org):
    conn = _conn(org, "business_central", {"journal_id": "j-1", "company_id": "c-1"})
    url = f"/api/v1/connections/{conn.pk}/"
    bad = api.patch(url, {"settings": {"journal_code": "X", "window_limit": "lots"}}, format="json")
    assert bad.status_code == 400
    assert [e["attr"] for e in bad.json()["errors"]] == ["settings.window_limit"]
    conn.refresh_from_db()
    assert conn.settings == {"journal_id": "j-1", "company_id": "c-1"}
    ok = api.patch(url, {"settings": {"export_mode": "purchase_invoice"}}, format="json")
    assert ok.status_code == 200, ok.content
    conn.refresh_from_db()
    assert conn.settings == {"journal_id": "j-1", "company_id": "c-1", "export_mode": "purchase_invoice"}


def test_api_refuses_a_settings_value_that_is_no_object(api, org):
    conn = _conn(org, "wafeq", {})
    response = api.patch(f"/api/v1/connections/{conn.pk}/", {"settings": ["read_timeout"]}, format="json")
    assert response.status_code == 400 and response.json()["errors"][0]["attr"] == "settings"


def test_the_openapi_document_has_a_settings_schema_per_system():
    document = SchemaGenerator().get_schema(request=None, public=True)
    components = document["components"]["schemas"]
    field = components["Connection"]["properties"]["settings"]
    refs = {ref["$ref"].rsplit("/", 1)[1] for ref in field["anyOf"]}
    assert refs == {v.settings_class for v in vendors()}
    bc = components["BusinessCentralSettings"]["properties"]
    assert "export_mode" in bc and ["journal", "purchase_invoice"] in [c.get("enum") for c in components.values()]
    assert "journal batch" in bc["journal_code"]["description"]


def test_the_admin_form_shows_the_vendors_settings_and_saves_them(admin_client, org):
    conn = _conn(org, "xledger", {"base_currency": "NOK"})
    url = f"/admin/connectors/connection/{conn.pk}/change/"
    page = admin_client.get(url).content.decode()
    assert 'name="setting__lookup_window_days"' in page and "changed-since window reaches" in page
    form = admin_client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.update({"settings": '{"base_currency": "NOK"}', "setting__lookup_window_days": "20",
                 "setting__lookup_by": "filter"})
    data = {k: v for k, v in data.items() if v is not False}
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    conn.refresh_from_db()
    assert conn.settings == {"base_currency": "NOK", "lookup_window_days": 20, "lookup_by": "filter"}


def test_an_admin_post_without_the_settings_fields_keeps_the_settings(admin_client, org):
    """A scripted post of the model fields alone (no typed fields rendered) changes no setting."""
    conn = _conn(org, "workday", {"submit": True, "company": "ACME"})
    url = f"/admin/connectors/connection/{conn.pk}/change/"
    form = admin_client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields
            if not name.startswith("setting__") and form[name].value() not in (None, False)}
    assert admin_client.post(url, data).status_code == 302
    conn.refresh_from_db()
    assert conn.settings == {"submit": True, "company": "ACME"}


def test_the_admin_form_refuses_a_raw_setting_of_the_wrong_type(admin_client, org):
    conn = _conn(org, "xledger", {})
    url = f"/admin/connectors/connection/{conn.pk}/change/"
    form = admin_client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() not in (None, False)}
    data["settings"] = '{"burst_limit": "many"}'
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert "burst_limit" in str(response.context["adminform"].form.errors["settings"])
