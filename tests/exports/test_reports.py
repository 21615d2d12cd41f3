"""Scheduled reports: built when due, emailed as a signed, expiring link that only members open."""

import csv
import io
import zipfile
from datetime import date, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from expensico_sync.core.roles import Role
from expensico_sync.notify import sender
from exports.models import GeneratedReport, ReportSchedule
from exports.reports.services import run_due
from tests.core.factories import make_member, make_org
from tests.exports.factories import connection_for, make_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    org = make_org("reports")
    make_record(org, document_date=date(2026, 11, 3), status="exported", reference="EXPENSICO-nov-v1")
    make_record(org, document_date=date(2026, 12, 2), status="exported", reference="EXPENSICO-dec-v1")
    return org


def test_monthly_export_records_report_is_built_and_linked_not_attached(org, client):
    admin = make_member(org, Role.FINANCE_ADMIN)
    ReportSchedule.objects.create(organization=org, report="export_records", format="csv", day=1)
    assert run_due(date(2026, 12, 2)) == []                       # not its day
    [report] = run_due(date(2026, 12, 1))
    assert run_due(date(2026, 12, 1)) == []                       # once per day
    sender.send_pending()
    [message] = mail.outbox
    assert not message.attachments and "/api/v1/report-downloads/" in message.body
    link = message.body.split("http://127.0.0.1:8000", 1)[1].split()[0]
    assert client.get(link).status_code == 302                    # signed in only
    client.force_login(admin)
    response = client.get(link)
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [r["reference"] for r in rows] == ["EXPENSICO-nov-v1"]    # November only
    assert report.filename == "export-records-reports-20261101-20261201.csv"

    outsider = make_member(make_org("other"), Role.OWNER)
    client.force_login(outsider)
    assert client.get(link).status_code == 404
    client.force_login(admin)
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        assert client.get(link).status_code == 404                # expired
    assert client.get(link[:-5] + "abcd/").status_code == 404     # tampered


def test_weekly_xlsx_and_the_evidence_pack(org):
    make_member(org, Role.OWNER)
    ReportSchedule.objects.create(organization=org, report="review_items", format="xlsx", cadence="weekly", day=1)
    ReportSchedule.objects.create(organization=org, report="evidence_pack", cadence="monthly", day=1,
                                  connection=connection_for(org))
    done = {r.filename.rsplit(".", 1)[1]: r for r in run_due(date(2026, 12, 7))}   # a Monday, not the 1st
    assert set(done) == {"xlsx"}
    assert done["xlsx"].file.read(2) == b"PK"
    [pack] = run_due(date(2027, 1, 1))          # tasks run inline in tests: the stored pack is built already
    assert pack.filename.endswith("2026-12.zip") and pack.status == "ready" and not pack.file
    assert "manifest.json" in zipfile.ZipFile(pack.evidence_pack.file).namelist()
    assert GeneratedReport.objects.count() == 2


def test_schedule_validation_names_the_field(org):
    with pytest.raises(ValidationError) as err:
        ReportSchedule(organization=org, report="evidence_pack", day=1).full_clean()
    assert "connection" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        ReportSchedule(organization=org, report="review_items", cadence="weekly", day=9).full_clean()
    assert "day" in err.value.message_dict


def test_a_reconciliation_report(org):
    from exports.models import Reconciliation, ReconciliationRow

    make_member(org, Role.FINANCE_ADMIN)
    run = Reconciliation.objects.create(organization=org, connection=connection_for(org), period=date(2026, 11, 1),
                                        status="finished")
    ReconciliationRow.objects.create(reconciliation=run, account_kind="employee_claims", account="2100",
                                     currency="SAR", expensico="-155.000", booked="-155.000", vendor="-150.000",
                                     difference="5.000")
    ReportSchedule.objects.create(organization=org, report="reconciliations", format="csv", day=1)
    [report] = run_due(date(2026, 12, 1))
    rows = list(csv.DictReader(io.StringIO(report.file.read().decode())))
    assert [(r["account"], r["vendor"], r["difference"]) for r in rows] == [("2100", "-150.00", "5.00")]


def test_the_schedule_list_reads_connections_with_the_page(org, client):
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    client.force_login(make_member(org, Role.FINANCE_ADMIN))
    url = reverse("admin:exports_reportschedule_changelist")
    conn = connection_for(org)

    def queries():
        with CaptureQueriesContext(db) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    ReportSchedule.objects.create(organization=org, report="evidence_pack", connection=conn)
    client.get(url)
    one = queries()
    ReportSchedule.objects.bulk_create([ReportSchedule(organization=org, report="evidence_pack", connection=conn)
                                        for _ in range(5)])
    assert queries() == one
