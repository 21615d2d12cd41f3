"""Who may build and who may download an evidence pack. A build costs minutes of a worker, so it
needs close.sign_off in the API (POST) as in the admin (Build), and a GET never queues one, whoever
sends it. Downloading a built pack needs the same in the admin as in the API: membership of the
organisation (reads need membership; the role matrix in core/roles.py)."""

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from expensico_sync.core.models import Organization
from expensico_sync.core.roles import Role
from exports.close.models import EvidencePack
from exports.close.packs import pack_request
from exports.models import MonthClose
from tests.core.factories import make_member

from .test_close_admin import booked  # noqa: F401
from .test_close_api import LIST, client_as

pytestmark = pytest.mark.django_db
NOV = date(2026, 11, 1)


def evidence_url(org, conn):
    return f"{LIST}/{MonthClose.objects.get_or_create(organization=org, period=NOV)[0].pk}/evidence?connection={conn.pk}"


@pytest.mark.parametrize("role", [Role.VIEWER, Role.REVIEWER, Role.FINANCE_ADMIN, Role.OWNER])
def test_an_api_get_never_queues_a_build(client, org, conn, booked, role):  # noqa: F811
    response = client_as(client, org, role).get(evidence_url(org, conn))
    assert response.status_code == 409 and response.json()["errors"][0]["code"] == "evidence_not_built"
    assert not EvidencePack.objects.exists(), f"a {role} GET queued a build"


def test_a_stale_pack_is_not_rebuilt_by_a_get(client, org, conn, booked):  # noqa: F811
    url = evidence_url(org, conn)
    pack = pack_request(connection=conn, period=NOV)
    MonthClose.objects.filter(period=NOV).update(status="signed_off", updated_at=pack.built_at.replace(year=2099))
    assert client_as(client, org, Role.VIEWER).get(url).status_code == 409
    assert list(EvidencePack.objects.values_list("pk", flat=True)) == [pack.pk]


@pytest.mark.parametrize(("role", "allowed"), [(Role.VIEWER, False), (Role.REVIEWER, False),
                                               (Role.FINANCE_ADMIN, True), (Role.OWNER, True)])
def test_building_in_the_api_needs_close_sign_off(client, org, conn, booked, role, allowed):  # noqa: F811
    response = client_as(client, org, role).post(evidence_url(org, conn))
    assert response.status_code == (202 if allowed else 403)
    assert EvidencePack.objects.exists() == allowed


@pytest.mark.parametrize(("role", "allowed"), [(Role.VIEWER, False), (Role.REVIEWER, False),
                                               (Role.FINANCE_ADMIN, True), (Role.OWNER, True)])
def test_building_in_the_admin_needs_close_sign_off(client, org, conn, booked, role, allowed):  # noqa: F811
    client.force_login(make_member(org, role=role))
    client.post(reverse("admin:exports_monthclose_evidence_build", args=[org.pk, "2026-11", conn.pk]))
    assert EvidencePack.objects.exists() == allowed


@pytest.mark.parametrize("role", list(Role))
def test_the_admin_download_needs_what_the_api_download_needs(org, conn, booked, role):  # noqa: F811
    url = evidence_url(org, conn)              # the month first: a pack older than the month is stale
    pack = pack_request(connection=conn, period=NOV)
    assert pack.status == EvidencePack.Status.READY
    api = client_as(Client(), org, role).get(url)
    admin = Client()
    admin.force_login(make_member(org, role=role))
    page = admin.get(reverse("admin:exports_monthclose_evidence", args=[org.pk, "2026-11", conn.pk]))
    assert (api.status_code, page.status_code) == (200, 200) and page["Content-Type"] == "application/zip"


def test_a_member_of_another_organisation_downloads_nothing(org, conn, booked):  # noqa: F811
    url = evidence_url(org, conn)
    pack_request(connection=conn, period=NOV)
    stranger = Organization.objects.create(slug="other", name="Other")
    api = client_as(Client(), stranger, Role.OWNER).get(url)
    admin = Client()
    admin.force_login(make_member(stranger, role=Role.OWNER))
    page = admin.get(reverse("admin:exports_monthclose_evidence", args=[org.pk, "2026-11", conn.pk]))
    assert (api.status_code, page.status_code) == (404, 404)
