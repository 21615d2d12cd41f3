"""The mappings API: CRUD per kind, scoping of writes, gaps, bulk import, export, history, revert."""

import json
from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse

from expensico_sync.core.roles import Role
from expensico_sync.core.services import api_key_create
from mappings.models import CategoryMapping, HoldRule
from tests.core.factories import make_org
from tests.mappings.factories import make_category_mapping, make_connection
from tests.source.factories import expense_payload, make_report, report_payload


@pytest.fixture
def api(client, owner):
    client.force_login(owner)
    return client


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


@pytest.mark.parametrize(("route", "body"), [
    ("category-mappings", {"category_code": "TRAVEL", "account": "6100", "expense_type": "mileage"}),
    ("tax-mappings", {"tax_code": "VAT15", "tax_rate": "tr-15", "treatment": "inclusive"}),
    ("currency-policies", {"rate_source": "table", "fx_account": "7900"}),
    ("exchange-rates", {"currency": "USD", "effective_from": "2026-01-01", "rate": "3.75000000"}),
    ("dimension-mappings", {"dimension_key": "project", "value": "P1", "remote_kind": "project", "remote_id": "p1"}),
    ("merchant-rules", {"merchant": "CAREEM*RIDE 1234", "contact": "c-1"}),
    ("hold-rules", {"name": "Large", "amount_over": "5000.000", "categories": ["ENT"]}),
])
def test_crud_for_every_kind(api, connection, org, route, body):
    url = f"/api/v1/{route}"
    created = post(api, url, {"connection": connection.pk, **body})
    assert created.status_code == 201, created.content
    row = created.json()
    assert row["organization"] == org.pk
    listed = api.get(url, {"connection": connection.pk}).json()["results"]
    assert [r["id"] for r in listed] == [row["id"]]
    patched = api.patch(f"{url}/{row['id']}", json.dumps({}), content_type="application/json")
    assert patched.status_code == 200, patched.content
    assert api.delete(f"{url}/{row['id']}").status_code == 204
    assert api.get(url).json()["results"] == []


def test_merchant_names_are_normalised(api, connection):
    row = post(api, "/api/v1/merchant-rules", {"connection": connection.pk, "merchant": "CAREEM*RIDE 1234"}).json()
    assert row["merchant"] == "careem"


def test_validation_errors_use_the_house_format(api, connection):
    response = post(api, "/api/v1/tax-mappings", {"connection": connection.pk, "tax_code": "V", "separate_line": True})
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "tax_account"
    response = post(api, "/api/v1/hold-rules", {"connection": connection.pk, "name": "Nothing"})
    assert response.status_code == 400
    duplicate = {"connection": connection.pk, "category_code": "A", "account": "1"}
    assert post(api, "/api/v1/category-mappings", duplicate).status_code == 201
    assert post(api, "/api/v1/category-mappings", duplicate).status_code == 400


def test_cannot_write_into_another_organisations_connection(api):
    foreign = make_connection(make_org("other"))
    response = post(api, "/api/v1/category-mappings", {"connection": foreign.pk, "category_code": "X", "account": "1"})
    assert response.status_code == 400 and response.json()["errors"][0]["attr"] == "connection"
    assert not CategoryMapping.objects.exists()


def test_viewer_key_reads_but_cannot_write(client, org, connection):
    make_category_mapping(connection, "TRAVEL")
    _, key = api_key_create(organization=org, role=Role.VIEWER, name="ro")
    headers = {"HTTP_AUTHORIZATION": f"Api-Key {key}"}
    assert client.get("/api/v1/category-mappings", **headers).status_code == 200
    response = client.post("/api/v1/category-mappings", json.dumps({"connection": connection.pk, "category_code": "B",
                                                                   "account": "1"}),
                           content_type="application/json", **headers)
    assert response.status_code == 403
    assert client.post(f"/api/v1/mapping-sets/{connection.pk}/import", json.dumps({"template": {}}),
                       content_type="application/json", **headers).status_code == 403


def test_gaps_endpoint(api, org, connection):
    make_report(org, report_payload(3, expenses=[expense_payload(301, tax=None, dimensions={})]))
    body = api.get(f"/api/v1/mapping-sets/{connection.pk}/gaps").json()
    assert body == [{"kind": "category", "key": "OFF", "detail": "Office supplies", "expenses": 1,
                     "amounts": {"SAR": "115.000"}, "source_ids": ["exp_301"]}]


def test_bulk_import_dry_run_then_apply(api, connection):
    template = {"category": [{"category_code": "TRAVEL", "account": "6100"}, {"category_code": "MEALS"}]}
    url = f"/api/v1/mapping-sets/{connection.pk}/import"
    response = post(api, url, {"template": template})
    assert response.status_code == 400
    body = response.json()
    assert body["totals"] == {"new": 1, "update": 0, "skip": 0, "error": 1}
    assert body["rows"][1]["errors"] == ["category[1], column account: This field cannot be blank."]
    template["category"][1]["account"] = "6200"
    assert post(api, url, {"template": template}).json()["dry_run"] is True
    assert not CategoryMapping.objects.exists()
    applied = post(api, url, {"template": template, "dry_run": False})
    assert applied.status_code == 200 and applied.json()["totals"]["new"] == 2
    assert CategoryMapping.objects.count() == 2


def test_multipart_upload_and_export(api, connection):
    from django.core.files.uploadedfile import SimpleUploadedFile
    make_category_mapping(connection, "TRAVEL")
    HoldRule.objects.create(connection=connection, name="No receipt", missing_receipt=True)
    exported = api.get(f"/api/v1/mapping-sets/{connection.pk}/export", {"file_format": "csv"})
    assert exported.status_code == 200 and b"kind,category_code" in exported.content
    other = make_connection(connection.organization)
    response = api.post(f"/api/v1/mapping-sets/{other.pk}/import",
                        {"file": SimpleUploadedFile("set.csv", exported.content), "dry_run": "false"})
    assert response.status_code == 200, response.content
    assert response.json()["totals"]["new"] == 2


def test_history_and_revert(api, connection):
    with time_machine.travel(datetime(2026, 11, 2, 9, tzinfo=UTC), tick=False):
        mapping = make_category_mapping(connection, "TRAVEL", account="6100")
    with time_machine.travel(datetime(2026, 11, 2, 10, tzinfo=UTC), tick=False):
        api.patch(f"/api/v1/category-mappings/{mapping.pk}", json.dumps({"account": "6999"}),
                  content_type="application/json")
    history = api.get(f"/api/v1/mapping-sets/{connection.pk}/history").json()
    assert history[0]["changes"] == [{"field": "account", "old": "6100", "new": "6999"}]
    assert history[0]["user"] == "fiona"
    response = post(api, f"/api/v1/mapping-sets/{connection.pk}/revert", {"at": "2026-11-02T09:30:00Z"})
    assert response.json() == {"restored": 1, "deleted": 0, "unchanged": 0}
    assert CategoryMapping.objects.get(pk=mapping.pk).account == "6100"
    version = api.get(f"/api/v1/mapping-sets/{connection.pk}").json()["version"]
    assert version.startswith("20")


def test_schema_documents_the_mapping_endpoints(api):
    schema = api.get(reverse("schema"), HTTP_ACCEPT="application/json").json()
    paths = set(schema["paths"])
    for path in ("/api/v1/category-mappings", "/api/v1/mapping-sets/{id}/gaps", "/api/v1/mapping-sets/{id}/import",
                 "/api/v1/mapping-sets/{id}/revert", "/api/v1/remote-catalog"):
        assert any(p.rstrip("/") == path for p in paths), path


def test_a_second_currency_policy_is_a_validation_error_not_a_crash(api, connection):
    body = {"connection": connection.pk, "rate_source": "table"}
    assert post(api, "/api/v1/currency-policies", body).status_code == 201
    response = post(api, "/api/v1/currency-policies", body)
    assert response.status_code == 400, response.content
    assert response.json()["type"] == "validation_error"
