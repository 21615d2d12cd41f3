"""POST /api/v1/connections/{id}/activate/ and GET …/activation-preview/: the admin's numbers, finance admins only."""

from datetime import date

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from connectors.setup_steps import activation_preview
from expensico_sync.core.models import Membership
from exports.models import SyncRun

from .conftest import approve, expense

pytestmark = pytest.mark.django_db


def _client(org, role):
    user = get_user_model().objects.create_user(role, f"{role}@example.com", "pw-123456789")
    Membership.objects.create(user=user, organization=org, role=role)
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def inactive(conn):
    conn.active, conn.api_key = False, "k"
    conn.save()
    return conn


def test_preview_gives_the_admin_pages_numbers_and_changes_nothing(org, inactive):
    approve(org, expense("exp_1"), expense("exp_2", category="HOTEL"), expense("exp_old", date="2026-10-01"))
    url = f"/api/v1/connections/{inactive.pk}/activation-preview/"
    answer = _client(org, "finance_admin").get(url, {"export_from": "2026-11-01"})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert (body["export"], body["held"]) == (2, 1)        # exp_old is before the start; HOTEL is unmapped
    # The admin's activation page renders activation_preview() for the same day.
    same = activation_preview(inactive, date(2026, 11, 1))
    assert (body["export"], body["held"], body["detail"]) == (same.export, same.held, same.detail)
    inactive.refresh_from_db()
    assert not inactive.active and not SyncRun.objects.exists()


def test_activate_starts_exports_from_the_date(org, inactive):
    approve(org, expense("exp_1"))
    answer = _client(org, "finance_admin").post(f"/api/v1/connections/{inactive.pk}/activate/",
                                                {"export_from": "2026-11-01"}, format="json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["active"] is True and answer.json()["export_from"] == "2026-11-01"
    run = SyncRun.objects.get()
    assert (run.connection_id, str(run.date_from)) == (inactive.pk, "2026-11-01")
    again = _client(org, "owner").post(f"/api/v1/connections/{inactive.pk}/activate/",
                                       {"export_from": "2026-11-01"}, format="json")
    assert again.status_code == 400 and "already active" in again.content.decode()


def test_activate_refuses_readers_bad_dates_and_missing_credentials(org, inactive):
    url = f"/api/v1/connections/{inactive.pk}/activate/"
    assert _client(org, "viewer").post(url, {"export_from": "2026-11-01"}, format="json").status_code == 403
    admin = _client(org, "finance_admin")
    bad = admin.post(url, {"export_from": "3026-01-01"}, format="json")
    assert bad.status_code == 400 and "export_from" in bad.json().__str__()
    assert admin.post(url, {}, format="json").status_code == 400
    inactive.api_key = ""
    inactive.save()
    refused = admin.post(url, {"export_from": "2026-11-01"}, format="json")
    assert refused.status_code == 400 and "credentials" in refused.content.decode()


def test_schema_documents_activation(org):
    schema = _client(org, "owner").get("/api/schema/", {"format": "json"}).json()
    assert "post" in schema["paths"]["/api/v1/connections/{id}/activate/"]
    preview = schema["paths"]["/api/v1/connections/{id}/activation-preview/"]["get"]
    assert any(p["name"] == "export_from" for p in preview["parameters"])
