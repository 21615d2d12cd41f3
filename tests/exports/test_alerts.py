"""Alerts from the export engine's scan: each condition notifies once per incident."""

from datetime import timedelta

import pytest
from django.utils import timezone

from connectors.breaker import BREAKER_THRESHOLD, breaker_record_failure, breaker_record_success
from expensico_sync.core.roles import Role
from expensico_sync.notify.models import Notification
from exports import alerts
from exports.models import ReviewItem
from tests.core.factories import make_member, make_org
from tests.exports.factories import connection_for, make_record


@pytest.fixture
def org(db):
    org = make_org("alerts")
    make_member(org, Role.OWNER)
    make_member(org, Role.REVIEWER)
    return org


def _kinds():
    return sorted(Notification.objects.values_list("kind", "incident"))


def test_breaker_alerts_once_per_incident(org):
    connection = connection_for(org)
    for _ in range(BREAKER_THRESHOLD):
        breaker_record_failure(connection)
    connection.refresh_from_db()
    assert alerts.scan() == 1
    assert alerts.scan() == 0 and alerts.scan() == 0                  # still open: same incident
    assert _kinds() == [("connection.breaker_opened", f"breaker:{connection.pk}#1")]   # owner only

    breaker_record_success(connection)
    assert alerts.scan() == 0                                          # cleared: nothing to say
    for _ in range(BREAKER_THRESHOLD):
        breaker_record_failure(connection)
    assert alerts.scan() == 1                                          # a new incident
    assert [i for _, i in _kinds()] == [f"breaker:{connection.pk}#1", f"breaker:{connection.pk}#2"]


def test_rejected_credentials_and_past_sla(org):
    record = make_record(org, status="needs_review")
    ReviewItem.objects.create(organization=org, record=record, reason=ReviewItem.Reason.AUTH, detail="401",
                              sla_due_at=timezone.now() - timedelta(hours=1))
    assert alerts.scan() == 2
    kinds = [k for k, _ in _kinds()]
    assert kinds.count("connection.auth_rejected") == 1                 # the owner
    assert kinds.count("review.past_sla") == 2                          # owner and reviewer
    assert alerts.scan() == 0


def test_past_sla_goes_to_the_queue_then_escalates_to_finance_admins(org, settings):
    settings.ALERT_SLA_ESCALATE_HOURS = 24
    admin = make_member(org, Role.FINANCE_ADMIN)
    item = ReviewItem.objects.create(organization=org, record=make_record(org, status="needs_review"),
                                     reason=ReviewItem.Reason.VALIDATION, sla_due_at=timezone.now() - timedelta(hours=1))
    assert alerts.scan() == 1
    assert admin not in {n.user for n in Notification.objects.filter(kind="review.past_sla")}
    ReviewItem.objects.filter(pk=item.pk).update(sla_due_at=timezone.now() - timedelta(hours=30))
    assert alerts.scan() == 1 and alerts.scan() == 0
    assert [n.user for n in Notification.objects.filter(kind="review.sla_escalated")] == [admin]


def test_a_slow_vendor_alerts(org, settings):
    from connectors.models import CallLog

    settings.ALERT_LATENCY_MS, settings.ALERT_ERROR_RATE_MIN_ATTEMPTS = 3000, 10
    connection = connection_for(org)
    CallLog.objects.bulk_create([CallLog(connection=connection, method="POST", path="/x", status=200,
                                         duration_ms=200 if n < 19 else 9000) for n in range(20)])
    assert alerts.scan() == 0                                           # p95 of 20 calls: still fast
    CallLog.objects.bulk_create([CallLog(connection=connection, method="POST", path="/x", status=200,
                                         duration_ms=9000) for _ in range(5)])
    assert alerts.scan() == 1
    assert [k for k, _ in _kinds()] == ["connection.latency"]


def test_a_stalled_backlog_alerts(org, settings):
    settings.ALERT_STALLED_HOURS = 2
    record = make_record(org, status="pending")
    type(record).objects.filter(pk=record.pk).update(created_at=timezone.now() - timedelta(hours=3))
    assert alerts.scan() == 1
    assert [k for k, _ in _kinds()] == ["connection.stalled"]


def test_a_billed_allowance_alerts_at_80_percent_once_a_month(org):
    from connectors.models import CallLog, Connection

    xledger = Connection.objects.create(organization=org, system="xledger", name="Xledger",
                                        base_url="http://127.0.0.1:9/graphql")
    calls = [CallLog(connection=xledger, method="POST", path="/graphql", status=200) for _ in range(3999)]
    CallLog.objects.bulk_create(calls)
    assert alerts.scan() == 0
    CallLog.objects.create(connection=xledger, method="POST", path="/graphql", status=200)
    assert alerts.scan() == 1 and alerts.scan() == 0
    assert [k for k, _ in _kinds()] == ["connection.request_allowance"]


def test_a_credential_about_to_expire_alerts_once(org, settings):
    settings.ALERT_CREDENTIAL_EXPIRY_DAYS = 14
    connection = connection_for(org)
    connection.credentials_expire_on = (timezone.now() + timedelta(days=30)).date()
    connection.save()
    assert alerts.scan() == 0
    connection.credentials_expire_on = (timezone.now() + timedelta(days=10)).date()
    connection.save()
    assert alerts.scan() == 1 and alerts.scan() == 0
    assert [k for k, _ in _kinds()] == ["connection.credential_expiry"]
