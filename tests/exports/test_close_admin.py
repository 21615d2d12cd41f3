"""The admin's Close section: month list, checklist page, sign-off, reopen, evidence, list exports."""

import io
import json
import zipfile

import pytest
from django.urls import reverse

from expensico_sync.core.roles import Role
from exports.close.models import EvidencePack
from exports.models import MonthClose
from exports.services.worker import records_work_due
from tests.core.factories import make_member

from .conftest import approve, expense

pytestmark = pytest.mark.django_db


def month_url(org, name="month", *args):
    return reverse(f"admin:exports_monthclose_{name}", args=[org.pk, "2026-11", *args])


@pytest.fixture
def booked(org, conn, vendor):
    approve(org, expense("exp_1"))
    records_work_due()


def as_member(client, org, role):
    client.force_login(make_member(org, role=role))
    return client


def test_month_list_and_checklist_page_render_with_drill_downs(client, org, booked):
    viewer = as_member(client, org, Role.VIEWER)
    months = viewer.get(reverse("admin:exports_monthclose_months"))
    assert months.status_code == 200 and "Checklist" in months.content.decode()
    page = viewer.get(month_url(org)).content.decode()
    assert "Every approved expense exported" in page and "Statement complete" in page
    assert "Sign off November 2026" not in page   # a viewer cannot sign


def test_finance_admin_signs_off_from_the_checklist_page(client, org, booked):
    admin = as_member(client, org, Role.FINANCE_ADMIN)
    assert "Sign off November 2026" in admin.get(month_url(org)).content.decode()
    response = admin.post(month_url(org, "sign_off"), {"comment": "done"})
    assert response.status_code == 302
    close = MonthClose.objects.get()
    assert close.locked and close.comment == "done"
    assert admin.post(month_url(org, "reopen"), {"reason": "x"}).status_code == 403


def test_owner_reopens_with_a_reason_only(client, org, booked):
    MonthClose.objects.create(organization=org, period="2026-11-01", status="signed_off")
    owner = as_member(client, org, Role.OWNER)
    owner.post(month_url(org, "reopen"), {"reason": ""})
    assert MonthClose.objects.get().locked
    owner.post(month_url(org, "reopen"), {"reason": "late invoice"})
    assert not MonthClose.objects.get().locked


def test_evidence_download_from_the_admin(client, org, conn, booked):
    finance = as_member(client, org, Role.FINANCE_ADMIN)
    assert finance.get(month_url(org, "evidence", conn.pk)).status_code == 302    # a GET builds nothing
    finance.post(month_url(org, "evidence", conn.pk) + "build/")                  # queued (inline in tests)
    response = finance.get(month_url(org, "evidence", conn.pk))
    assert response.status_code == 200
    pack = zipfile.ZipFile(io.BytesIO(response.getvalue()))
    assert "chain.csv" in json.loads(pack.read("manifest.json"))["files"]


def test_only_close_sign_off_builds_the_evidence_pack_as_in_the_api(client, org, conn, booked):
    viewer = as_member(client, org, Role.VIEWER)
    page = viewer.get(month_url(org)).content.decode()
    assert month_url(org, "evidence", conn.pk) + "build/" not in page              # no Build button
    assert "a finance admin builds it" in page
    response = viewer.post(month_url(org, "evidence", conn.pk) + "build/", follow=True)
    assert not EvidencePack.objects.exists(), "nothing is queued for a viewer"
    assert "Only a finance admin (permission close.sign_off) may build the evidence pack" in response.content.decode()
    finance = as_member(client, org, Role.FINANCE_ADMIN)
    assert month_url(org, "evidence", conn.pk) + "build/" in finance.get(month_url(org)).content.decode()
    finance.post(month_url(org, "evidence", conn.pk) + "build/")
    assert EvidencePack.objects.get().status == EvidencePack.Status.READY


def test_another_organisations_month_is_not_found(client, org, booked):
    from expensico_sync.core.models import Organization
    stranger = Organization.objects.create(slug="other", name="Other")
    viewer = as_member(client, org, Role.VIEWER)
    assert viewer.get(month_url(stranger)).status_code == 404


def test_export_records_review_items_and_call_logs_export_as_csv(admin_client, org, booked):
    for name in ("exports_exportrecord", "exports_reviewitem", "connectors_calllog"):
        url = reverse(f"admin:{name}_export")
        response = admin_client.post(url, {"format": "0", "resource": "0", "export_items": []})
        assert response.status_code == 200, (name, response.content[:300])
        assert response["Content-Type"].startswith("text/csv"), name
    records = admin_client.post(reverse("admin:exports_exportrecord_export"), {"format": "0", "resource": "0"})
    assert b"EXPENSICO-exp_1-v1" in records.content
