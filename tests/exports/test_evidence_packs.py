"""The evidence pack as a stored build: a django-q2 task streams it into a file with progress;
the API answers 202 while it builds and the file when it is ready; the admin shows both."""

import csv
import hashlib
import io
import json
import zipfile
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from expensico_sync.core.roles import Role
from exports.close import evidence
from exports.close.models import EvidencePack
from exports.close.packs import pack_build, pack_request
from exports.models import MonthClose
from exports.services.worker import records_work_due
from tests.core.factories import make_member

from .conftest import approve, expense
from .test_close_api import LIST, client_as

pytestmark = pytest.mark.django_db
NOV = date(2026, 11, 1)


@pytest.fixture
def booked(org, conn, vendor):
    approve(org, *(expense(f"exp_{n}") for n in range(5)))
    records_work_due(limit=10)


def verified(blob: bytes) -> dict[str, bytes]:
    pack = zipfile.ZipFile(io.BytesIO(blob))
    files = {name: pack.read(name) for name in pack.namelist()}
    manifest = json.loads(files.pop("manifest.json"))
    assert set(manifest["files"]) == set(files)
    for name, content in files.items():
        assert hashlib.sha256(content).hexdigest() == manifest["files"][name], name
    return {**files, "manifest.json": json.dumps(manifest).encode()}


def test_the_task_streams_in_chunks_with_progress_and_stores_the_file(conn, booked, monkeypatch):
    monkeypatch.setattr(evidence, "CHUNK", 2)      # five records, several attempts: many chunks
    seen = []
    real_update = EvidencePack.objects.filter(pk=0).update.__func__

    def spy(queryset, **fields):
        if "rows_done" in fields:
            seen.append(fields["rows_done"])
        return real_update(queryset, **fields)

    monkeypatch.setattr(type(EvidencePack.objects.filter(pk=0)), "update", spy)
    pack = pack_request(connection=conn, period=NOV)        # tasks run inline in tests
    assert pack.status == "ready" and pack.progress == 100 and pack.rows_done == pack.rows_total >= 10
    assert seen == sorted(seen) and len(seen) >= 4         # progress written while the rows were written
    blob = pack.file.read()
    assert pack.size == len(blob) and pack.sha256 == hashlib.sha256(blob).hexdigest()
    files = verified(blob)
    rows = list(csv.DictReader(io.StringIO(files["chain.csv"].decode())))
    assert sorted(r["source_id"] for r in rows) == [f"exp_{n}" for n in range(5)]


def test_a_large_part_is_csv_only_and_the_manifest_says_so(conn, booked, monkeypatch):
    monkeypatch.setattr(evidence, "XLSX_MAX_ROWS", 3)
    files = verified(evidence.evidence_pack_build(connection=conn, period=NOV))
    assert "chain.csv" in files and "chain.xlsx" not in files
    notes = json.loads(files["manifest.json"])["notes"]
    assert "5 rows is more than 3" in notes["chain.xlsx"] and "chain.csv is complete" in notes["chain.xlsx"]


def test_a_built_pack_is_claimed_once(conn, booked):
    pack = pack_request(connection=conn, period=NOV)
    assert pack.status == "ready"
    assert pack_build(pack.pk) is None                      # a re-delivered task finds it taken


def test_api_answers_202_with_progress_while_building_then_the_file(client, org, conn, booked):
    close = MonthClose.objects.create(organization=org, period=NOV)
    building = EvidencePack.objects.create(connection=conn, period=NOV, status="building", progress=40,
                                           rows_total=10, rows_done=4, started_at=timezone.now())
    api = client_as(client, org, Role.VIEWER)
    response = api.get(f"{LIST}/{close.pk}/evidence")
    assert response.status_code == 202
    assert response.json()["status"] == "building" and response.json()["progress"] == 40
    assert EvidencePack.objects.count() == 1                 # no second build queued meanwhile

    EvidencePack.objects.filter(pk=building.pk).update(status="queued")
    pack_build(building.pk)
    response = api.get(f"{LIST}/{close.pk}/evidence")
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    blob = response.getvalue()
    assert response["X-Evidence-SHA256"] == hashlib.sha256(blob).hexdigest()
    verified(blob)


def test_a_failed_build_is_a_conflict_until_someone_builds_again(client, org, conn, booked):
    close = MonthClose.objects.create(organization=org, period=NOV)
    EvidencePack.objects.create(connection=conn, period=NOV, status="failed", error="disk full")
    viewer = client_as(client, org, Role.VIEWER)
    response = viewer.get(f"{LIST}/{close.pk}/evidence")
    assert response.status_code == 409 and "disk full" in response.json()["errors"][0]["detail"]
    admin = client_as(client, org, Role.FINANCE_ADMIN)
    built = admin.post(f"{LIST}/{close.pk}/evidence")
    assert built.status_code == 202 and built.json()["status"] == "ready"     # inline here; queued in production
    assert admin.get(f"{LIST}/{close.pk}/evidence").status_code == 200
    assert EvidencePack.objects.filter(status="ready").count() == 1


def test_a_pack_older_than_the_sign_off_is_built_again(client, org, conn, booked):
    close = MonthClose.objects.create(organization=org, period=NOV)
    first = pack_request(connection=conn, period=NOV)
    MonthClose.objects.filter(pk=close.pk).update(status="signed_off",
                                                  updated_at=first.built_at + timedelta(microseconds=1))
    stale = client_as(client, org, Role.VIEWER).get(f"{LIST}/{close.pk}/evidence")
    assert stale.status_code == 409 and stale.json()["errors"][0]["code"] == "evidence_not_built"
    assert client_as(client, org, Role.FINANCE_ADMIN).post(f"{LIST}/{close.pk}/evidence").status_code == 202
    response = client_as(client, org, Role.VIEWER).get(f"{LIST}/{close.pk}/evidence")
    assert response.status_code == 200
    assert json.loads(verified(response.getvalue())["checklist.json"])["status"] == "signed_off"
    assert list(EvidencePack.objects.values_list("status", flat=True)) == ["ready"]   # the old file is gone
    assert EvidencePack.objects.get().pk != first.pk


def test_another_organisations_pack_is_not_served(client, org, conn, booked):
    from expensico_sync.core.models import Organization

    stranger = Organization.objects.create(slug="other", name="Other")
    pack = pack_request(connection=conn, period=NOV)
    assert pack.status == "ready"
    client.force_login(make_member(stranger, role=Role.OWNER))
    url = reverse("admin:exports_monthclose_evidence", args=[org.pk, "2026-11", conn.pk])
    assert client.get(url).status_code == 404
    assert client.get(reverse("admin:exports_evidencepack_changelist")).context["cl"].result_count == 0


def test_the_month_page_shows_progress_and_the_download(client, org, conn, booked):
    client.force_login(make_member(org, role=Role.FINANCE_ADMIN))
    EvidencePack.objects.create(connection=conn, period=NOV, status="building", progress=40, rows_total=10,
                                rows_done=4, started_at=timezone.now())
    page = client.get(reverse("admin:exports_monthclose_month", args=[org.pk, "2026-11"])).content.decode()
    assert "40% · 4 of 10 rows" in page and 'http-equiv="refresh"' in page
    EvidencePack.objects.all().delete()
    pack = pack_request(connection=conn, period=NOV)
    page = client.get(reverse("admin:exports_monthclose_month", args=[org.pk, "2026-11"])).content.decode()
    assert pack.sha256[:12] in page and "⬇ Fake books" in page
    listing = client.get(reverse("admin:exports_evidencepack_changelist")).content.decode()
    assert "100% (" in listing and "⬇ zip" in listing
    detail = client.get(reverse("admin:exports_evidencepack_change", args=[pack.pk])).content.decode()
    assert "⬇ zip" in detail and "/media/" not in detail     # the file only through the scoped view


def test_a_pack_whose_file_is_gone_is_built_again(client, org, conn, booked):
    close = MonthClose.objects.create(organization=org, period=NOV)
    first = pack_request(connection=conn, period=NOV)
    first.file.storage.delete(first.file.name)
    assert client_as(client, org, Role.VIEWER).get(f"{LIST}/{close.pk}/evidence").status_code == 409
    client_as(client, org, Role.FINANCE_ADMIN).post(f"{LIST}/{close.pk}/evidence")
    response = client_as(client, org, Role.VIEWER).get(f"{LIST}/{close.pk}/evidence")
    assert response.status_code == 200
    verified(response.getvalue())
    assert EvidencePack.objects.get().pk != first.pk


def test_the_month_page_shows_each_connections_latest_pack(client, org, conn, booked):
    """The month page picks each connection's newest pack in one portable query (it used DISTINCT ON,
    which SQLite refuses)."""
    from exports.close.packs import packs_latest

    EvidencePack.objects.create(connection=conn, period=NOV, status="failed", error="disk full")
    pack = pack_request(connection=conn, period=NOV)
    assert packs_latest(connections=[conn], period=NOV) == {conn.pk: pack}
    client.force_login(make_member(org, role=Role.FINANCE_ADMIN))
    page = client.get(reverse("admin:exports_monthclose_month", args=[org.pk, "2026-11"])).content.decode()
    assert pack.sha256[:12] in page and "disk full" not in page


@pytest.fixture
def busy_worker(monkeypatch):
    """Requested builds stay queued (the worker is busy with others) until the test says otherwise."""
    from exports.close import packs

    tasks = []
    monkeypatch.setattr(packs, "async_task", lambda func, pack_id, **kw: tasks.append(pack_id))
    return tasks


def test_a_pack_queued_behind_others_is_not_abandoned(conn, booked, busy_worker):
    from exports.close.packs import ABANDONED_AFTER, pack_abandoned

    waiting = EvidencePack.objects.create(connection=conn, period=NOV)
    EvidencePack.objects.filter(pk=waiting.pk).update(requested_at=timezone.now() - ABANDONED_AFTER * 3)
    waiting.refresh_from_db()
    assert not pack_abandoned(waiting)
    assert pack_request(connection=conn, period=NOV).pk == waiting.pk and busy_worker == []
    waiting.refresh_from_db()
    assert waiting.status == "queued"
    pack_build(waiting.pk)                                   # its turn comes: it is built
    waiting.refresh_from_db()
    assert waiting.status == "ready"


def test_a_build_is_abandoned_by_when_it_started(conn, booked, busy_worker):
    from exports.close.packs import ABANDONED_AFTER, pack_abandoned

    now = timezone.now()
    building = EvidencePack.objects.create(connection=conn, period=NOV, status="building")
    EvidencePack.objects.filter(pk=building.pk).update(requested_at=now - ABANDONED_AFTER * 3,
                                                      started_at=now - timedelta(minutes=5))
    building.refresh_from_db()
    assert not pack_abandoned(building)                      # asked for long ago, started just now
    EvidencePack.objects.filter(pk=building.pk).update(started_at=now - ABANDONED_AFTER - timedelta(minutes=1))
    building.refresh_from_db()
    assert pack_abandoned(building)
    fresh = pack_request(connection=conn, period=NOV)        # its worker died: the slot is freed
    building.refresh_from_db()
    assert building.status == "failed" and "abandoned" in building.error
    assert fresh.pk != building.pk and busy_worker == [fresh.pk]


def test_a_queued_pack_no_worker_took_for_a_day_is_given_up(conn, booked, busy_worker):
    from exports.close.packs import QUEUED_ABANDONED_AFTER

    lost = EvidencePack.objects.create(connection=conn, period=NOV)
    EvidencePack.objects.filter(pk=lost.pk).update(
        requested_at=timezone.now() - QUEUED_ABANDONED_AFTER - timedelta(minutes=1))
    fresh = pack_request(connection=conn, period=NOV)
    lost.refresh_from_db()
    assert lost.status == "failed" and fresh.pk != lost.pk and busy_worker == [fresh.pk]
