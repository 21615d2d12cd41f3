"""A scheduled evidence pack is never built in the reports task: the report asks the close's
streamed task for the stored pack, waits while it builds, links it when it is ready and reports
a failed build by email."""

import io
import zipfile
from datetime import date, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from expensico_sync.core.roles import Role
from expensico_sync.notify import sender
from exports.close import packs
from exports.close.models import EvidencePack
from exports.models import GeneratedReport, ReportSchedule
from exports.reports import services
from exports.reports.services import evidence_settle_waiting, run_due
from tests.core.factories import make_member, make_org
from tests.exports.factories import connection_for, make_record

pytestmark = pytest.mark.django_db
JAN_1 = date(2027, 1, 1)
DEC = date(2026, 12, 1)


@pytest.fixture
def org(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    org = make_org("evreports")
    make_record(org, document_date=date(2026, 12, 3), status="exported", reference="EXPENSICO-dec-v1")
    return org


@pytest.fixture
def schedule(org):
    return ReportSchedule.objects.create(organization=org, report="evidence_pack", day=1,
                                         connection=connection_for(org))


@pytest.fixture
def queued(monkeypatch):
    """The worker is busy: requested builds stay queued until the test runs them."""
    tasks = []
    monkeypatch.setattr(packs, "async_task", lambda func, pack_id, **kw: tasks.append(pack_id))
    return tasks


def link_in(message) -> str:
    return message.body.split("http://127.0.0.1:8000", 1)[1].split()[0]


def test_the_report_waits_for_the_stored_pack_and_links_it_when_built(org, schedule, queued, client):
    admin = make_member(org, Role.FINANCE_ADMIN)
    [report] = run_due(JAN_1)
    [pack] = EvidencePack.objects.all()
    assert queued == [pack.pk] and pack.period == DEC and pack.status == "queued"
    assert report.status == "waiting" and report.evidence_pack == pack and not report.file
    sender.send_pending()
    assert mail.outbox == []                                   # nothing to send yet
    assert run_due(JAN_1) == []                                # once per day; still waiting
    assert EvidencePack.objects.count() == 1

    packs.pack_build(pack.pk)                                  # the worker builds it; its end delivers the report
    report.refresh_from_db()
    pack.refresh_from_db()
    assert report.status == "ready" and report.sha256 == pack.sha256
    sender.send_pending()
    [message] = mail.outbox
    assert not message.attachments and "could not" not in message.subject
    client.force_login(admin)
    response = client.get(link_in(message))
    assert response.status_code == 200 and response["X-Evidence-SHA256"] == pack.sha256
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert "manifest.json" in archive.namelist()
    assert GeneratedReport.objects.get().file.name == ""      # linked, not copied


def test_a_failed_build_is_reported_not_skipped(org, schedule, queued, monkeypatch, client):
    admin = make_member(org, Role.OWNER)
    [report] = run_due(JAN_1)

    def broken(**kwargs):
        raise OSError("disk full")
    monkeypatch.setattr(packs, "evidence_pack_write", broken)
    packs.pack_build(report.evidence_pack_id)
    report.refresh_from_db()
    assert report.status == "failed" and "disk full" in report.error
    sender.send_pending()
    [message] = mail.outbox
    assert "could not be built" in message.subject and "disk full" in message.body
    client.force_login(admin)
    token = services.download_path(report)
    assert client.get(token).status_code == 404                # a failed report has nothing to download


def test_a_servable_pack_is_linked_without_a_new_build(org, schedule, queued):
    make_member(org, Role.FINANCE_ADMIN)
    existing = EvidencePack.objects.create(connection=schedule.connection, period=DEC)
    queued.clear()
    packs.pack_build(existing.pk)
    [report] = run_due(JAN_1)
    assert queued == [] and EvidencePack.objects.count() == 1
    assert report.status == "ready" and report.evidence_pack_id == existing.pk


def test_a_build_whose_worker_died_is_reported_by_the_sweep(org, schedule, queued):
    make_member(org, Role.FINANCE_ADMIN)
    [report] = run_due(JAN_1)
    assert evidence_settle_waiting() == 0                      # building, not late: still waiting
    EvidencePack.objects.filter(pk=report.evidence_pack_id).update(      # a worker took it, then died
        status="building", started_at=timezone.now() - packs.ABANDONED_AFTER - timedelta(minutes=1))
    assert evidence_settle_waiting() == 1
    report.refresh_from_db()
    assert report.status == "failed" and "abandoned" in report.error
    sender.send_pending()
    assert "could not be built" in mail.outbox[0].subject


def test_a_rebuilt_pack_does_not_serve_under_an_old_link(org, schedule, queued, client):
    admin = make_member(org, Role.FINANCE_ADMIN)
    [report] = run_due(JAN_1)
    packs.pack_build(report.evidence_pack_id)
    link = services.download_path(report)
    rebuilt = EvidencePack.objects.create(connection=schedule.connection, period=DEC)
    packs.pack_build(rebuilt.pk)                               # replaces (and deletes) the linked pack
    client.force_login(admin)
    assert client.get(link).status_code == 404
