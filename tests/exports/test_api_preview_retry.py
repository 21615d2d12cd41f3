"""Issue 18 item 4: a record's vendor payload without sending, and retrying an organisation's
failed exports, from the API."""

import pytest
from django.urls import reverse

from expensico_sync.core.roles import Role
from expensico_sync.core.services import api_key_create, organization_create
from exports.models import ExportRecord, ReviewItem
from exports.services.worker import records_work_due
from exports.transitions import Status

from .conftest import approve, expense
from .test_api import LIST, api, assert_error  # noqa: F401  (the fixture is used by name)

pytestmark = pytest.mark.django_db


def test_preview_is_the_connectors_payload_and_sends_nothing(api, org, conn, vendor):  # noqa: F811
    approve(org, expense("exp_1", amount="230.00"))
    record = ExportRecord.objects.get()
    body = api.get(f"{LIST}/{record.pk}/preview").json()
    assert body["ok"] is True and body["payload"] == {"reference": "EXPENSICO-exp_1-v1", "amount": "230.00"}
    assert body["entry"]["reference"] == "EXPENSICO-exp_1-v1"
    assert vendor.pushes == 0
    record.refresh_from_db()
    assert record.status == Status.PENDING and record.attempts == 0


def test_preview_of_an_unmapped_record_names_the_gap(api, org, conn):  # noqa: F811
    approve(org, expense("exp_1", category="HOTEL"))
    body = api.get(f"{LIST}/{ExportRecord.objects.get().pk}/preview").json()
    assert body["ok"] is False and body["reason"] == "mapping_gap" and body["payload"] is None


def test_the_worker_keeps_the_payload_preview_of_every_record(org, conn):
    approve(org, expense("exp_1"))
    records_work_due()
    record = ExportRecord.objects.get()
    assert record.status == Status.EXPORTED
    assert record.payload_preview == {"reference": "EXPENSICO-exp_1-v1", "amount": "115.00"}


def test_retry_failed_sends_the_organisations_failed_exports_again(api, org, conn, vendor):  # noqa: F811
    approve(org, expense("exp_1"), expense("exp_2"))
    vendor.faults = ["permanent", "permanent"]
    records_work_due()
    assert ReviewItem.objects.filter(resolved_at__isnull=True).count() == 2
    answer = api.post(f"{LIST}/retry-failed", {"organization": org.pk}, content_type="application/json")
    assert answer.status_code == 200, answer.content
    assert answer.json() == {"organization": org.pk, "retried": 2}
    records_work_due()
    assert set(ExportRecord.objects.values_list("status", flat=True)) == {Status.EXPORTED}


def test_retry_failed_is_scoped_and_role_checked(api, client, org, conn):  # noqa: F811
    other = organization_create(slug="other", name="Other", base_currency="SAR", country="SA")
    assert_error(api.post(f"{LIST}/retry-failed", {"organization": other.pk}, content_type="application/json"), 400)
    assert_error(api.post(f"{LIST}/retry-failed", {}, content_type="application/json"), 400)
    _, key = api_key_create(organization=org, role=Role.REVIEWER, name="reader")
    client.defaults["HTTP_AUTHORIZATION"] = f"Api-Key {key}"
    answer = client.post(f"{LIST}/retry-failed", {"organization": org.pk}, content_type="application/json")
    assert answer.status_code == 403


def test_openapi_documents_preview_and_retry_failed(client):
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.create_superuser("root", "r@example.com", "pw"))
    paths = {p.rstrip("/"): ops for p, ops in client.get(reverse("schema"), {"format": "json"}).json()["paths"].items()}
    assert "get" in paths["/api/v1/accounting-exports/{id}/preview"]
    assert "post" in paths["/api/v1/accounting-exports/retry-failed"]
