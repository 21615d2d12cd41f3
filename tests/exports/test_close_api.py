"""/api/v1/closes: viewers read, finance admins sign off, owners reopen; the evidence pack is a zip."""

import hashlib
import io
import json
import zipfile

import pytest

from expensico_sync.core.roles import Role
from expensico_sync.core.services import api_key_create
from exports.models import MonthClose
from exports.services.worker import records_work_due

from .conftest import approve, expense, make_connection

pytestmark = pytest.mark.django_db
LIST = "/api/v1/closes"


def client_as(client, org, role):
    _, key = api_key_create(organization=org, role=role, name=f"k-{role}")
    client.defaults["HTTP_AUTHORIZATION"] = f"Api-Key {key}"
    return client


def sign(api, org, period="2026-11", **extra):
    return api.post(LIST, {"organization": org.pk, "period": period, **extra}, content_type="application/json")


def test_finance_admin_signs_off_and_the_signed_checklist_is_served(client, org, conn, vendor):
    approve(org, expense("exp_1"))
    records_work_due()
    api = client_as(client, org, Role.FINANCE_ADMIN)
    response = sign(api, org, comment="November closed")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["period"] == "2026-11" and body["status"] == "signed_off" and body["comment"] == "November closed"
    assert [row["key"] for row in body["checklist"]][:2] == ["expenses_settled", "review_sla"]
    assert api.get(LIST, {"period": "2026-11"}).json()["results"][0]["id"] == body["id"]
    assert sign(api, org).status_code == 409


def test_sign_off_is_refused_while_the_checklist_is_not_complete(client, org, conn, vendor):
    approve(org, expense("exp_1"))
    response = sign(client_as(client, org, Role.FINANCE_ADMIN), org)
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "checklist_incomplete"


def test_bad_period_names_the_field(client, org):
    response = sign(client_as(client, org, Role.FINANCE_ADMIN), org, period="November")
    assert response.status_code == 400 and response.json()["errors"][0]["attr"] == "period"


def test_viewer_reads_but_cannot_sign_and_finance_admin_cannot_reopen(client, org, conn):
    close = MonthClose.objects.create(organization=org, period="2026-11-01", status="signed_off")
    viewer = client_as(client, org, Role.VIEWER)
    assert viewer.get(f"{LIST}/{close.pk}").status_code == 200
    assert sign(viewer, org, period="2026-10").status_code in (400, 403)
    admin = client_as(client, org, Role.FINANCE_ADMIN)
    assert admin.post(f"{LIST}/{close.pk}/reopen", {"reason": "x"}, content_type="application/json").status_code == 403


def test_owner_reopens_with_a_reason(client, org, conn):
    close = MonthClose.objects.create(organization=org, period="2026-11-01", status="signed_off")
    owner = client_as(client, org, Role.OWNER)
    missing = owner.post(f"{LIST}/{close.pk}/reopen", {}, content_type="application/json")
    assert missing.status_code == 400 and missing.json()["errors"][0]["attr"] == "reason"
    body = owner.post(f"{LIST}/{close.pk}/reopen", {"reason": "late invoice"}, content_type="application/json").json()
    assert body["status"] == "open" and body["reopen_reason"] == "late invoice"


def test_a_reopened_month_shows_no_sign_off_as_current(client, org, conn, vendor):
    """Current state: once reopened, the month is open and unsigned in the list and in its own
    view; the earlier sign-off is history (the reopen fields say when and why it was reopened)."""
    approve(org, expense("exp_1"))
    records_work_due()
    signed = sign(client_as(client, org, Role.FINANCE_ADMIN), org, comment="first close").json()
    assert signed["signed_off_at"] and signed["checklist_as_of"] == signed["signed_off_at"]
    owner = client_as(client, org, Role.OWNER)
    owner.post(f"{LIST}/{signed['id']}/reopen", {"reason": "late invoice"}, content_type="application/json")
    [listed] = owner.get(LIST, {"period": "2026-11"}).json()["results"]
    month = owner.get(f"{LIST}/{signed['id']}").json()
    for body in (listed, month):
        assert body["status"] == "open" and body["reopened_at"] and body["reopen_reason"] == "late invoice"
        assert body["signed_off_at"] is None and body["signed_off_by"] == "" and body["comment"] == ""
        assert body["checklist_as_of"] != signed["signed_off_at"]
    assert listed["checklist"] == [] and listed["checklist_as_of"] is None
    again = sign(client_as(client, org, Role.FINANCE_ADMIN), org, comment="second close").json()
    assert again["status"] == "signed_off" and again["signed_off_at"] > signed["signed_off_at"]
    assert again["comment"] == "second close"


def test_evidence_is_a_zip_whose_manifest_verifies(client, org, conn, vendor):
    approve(org, expense("exp_1"))
    records_work_due()
    close = MonthClose.objects.create(organization=org, period="2026-11-01")
    assert client_as(client, org, Role.FINANCE_ADMIN).post(f"{LIST}/{close.pk}/evidence").status_code == 202
    response = client_as(client, org, Role.VIEWER).get(f"{LIST}/{close.pk}/evidence")   # a viewer downloads it
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert "2026-11.zip" in response["Content-Disposition"]
    pack = zipfile.ZipFile(io.BytesIO(response.getvalue()))
    manifest = json.loads(pack.read("manifest.json"))
    for name, digest in manifest["files"].items():
        assert hashlib.sha256(pack.read(name)).hexdigest() == digest


def test_evidence_needs_the_connection_named_when_there_are_several(client, org, conn):
    other = make_connection(org, name="Second books")
    close = MonthClose.objects.create(organization=org, period="2026-11-01")
    api = client_as(client, org, Role.VIEWER)
    response = api.get(f"{LIST}/{close.pk}/evidence")
    assert response.status_code == 400 and response.json()["errors"][0]["attr"] == "connection"
    named = api.get(f"{LIST}/{close.pk}/evidence", {"connection": other.pk})
    assert named.status_code == 409 and named.json()["errors"][0]["code"] == "evidence_not_built"   # found, not built
    # "²".isdigit() is true but int("²") raises: a 400 naming the field, not a 500.
    odd = api.get(f"{LIST}/{close.pk}/evidence", {"connection": "²"})
    assert odd.status_code == 400 and odd.json()["errors"][0]["attr"] == "connection"


def test_another_organisations_close_is_invisible(client, org, conn):
    from expensico_sync.core.models import Organization
    stranger = Organization.objects.create(slug="other", name="Other")
    close = MonthClose.objects.create(organization=stranger, period="2026-11-01")
    api = client_as(client, org, Role.OWNER)
    assert api.get(f"{LIST}/{close.pk}").status_code == 404
    assert sign(api, stranger).status_code == 400


def _scope_reads(ctx, table="core_membership") -> list[str]:
    """Queries that read who may see what: any touching memberships; for an API key, those reading
    from organisations (not the close's join to its organisation)."""
    mark = '"core_membership"' if table == "core_membership" else f'FROM "{table}"'
    return [q["sql"] for q in ctx.captured_queries if mark in q["sql"]]


def test_a_members_roles_are_read_once_per_request_and_an_api_key_needs_no_read(client, org):
    """The permission check, the list's scoping and the object check share one read of the member's
    roles (were three on a detail: an EXISTS, the visible ids, the ids again); an API key names its
    organisation, so scoping reads nothing."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from expensico_sync.core.models import Membership, Organization

    other = Organization.objects.create(slug="other", name="Other", base_currency="SAR")
    mine = MonthClose.objects.create(organization=org, period="2026-10-01")
    theirs = MonthClose.objects.create(organization=other, period="2026-10-01")
    user = get_user_model().objects.create_user("fa-once", password="x")
    Membership.objects.create(user=user, organization=org, role=Role.FINANCE_ADMIN)
    client.force_login(user)
    for url, status in ((LIST, 200), (f"{LIST}/{mine.pk}", 200), (f"{LIST}/{theirs.pk}", 404)):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        assert response.status_code == status, url
        assert len(_scope_reads(ctx)) == 1, (url, _scope_reads(ctx))
    assert [c["id"] for c in client.get(LIST).json()["results"]] == [mine.pk]
    client.logout()
    api = client_as(client, org, Role.VIEWER)
    with CaptureQueriesContext(connection) as ctx:
        response = api.get(LIST)
    assert [c["id"] for c in response.json()["results"]] == [mine.pk]
    assert _scope_reads(ctx, "core_organization") == [] and _scope_reads(ctx) == []
    assert api.get(f"{LIST}/{theirs.pk}").status_code == 404
