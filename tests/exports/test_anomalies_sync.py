"""Sync anomalies: against the connection's own past, alerted once through the notifications."""

from datetime import timedelta

import pytest
from django.utils import timezone

from expensico_sync.core.roles import Role
from expensico_sync.notify.models import Notification
from exports import alerts
from exports.anomalies.services import anomaly_setting_save
from exports.models import ExportAttempt
from tests.core.factories import make_member, make_org
from tests.exports.factories import connection_for, make_record

pytestmark = pytest.mark.django_db
OK, RETRY = ExportAttempt.Outcome.EXPORTED, ExportAttempt.Outcome.RETRY


@pytest.fixture
def org(db):
    org = make_org("syncanom")
    make_member(org, Role.OWNER)
    return org


def _attempts(record, at, outcomes):
    ExportAttempt.objects.bulk_create([
        ExportAttempt(record=record, number=i + 1, started_at=at, finished_at=at, outcome=outcome,
                      error_class="Transient" if outcome == RETRY else "") for i, outcome in enumerate(outcomes)])


def _kinds():
    return {k for k in Notification.objects.values_list("kind", flat=True) if k.startswith("connection.")}


def test_an_error_rate_unusual_for_the_connection_alerts_once(org):
    now = timezone.now()
    record = make_record(org, status="exported")
    for hour in range(2, 40):                              # a steady past: 1 failure in 6 now and then
        _attempts(record, now - timedelta(hours=hour), [OK] * 5 + ([RETRY] if hour % 3 == 0 else [OK]))
    _attempts(record, now - timedelta(minutes=10), [OK] * 8 + [RETRY] * 4)     # 33 % this hour
    alerts.scan(now)
    assert "connection.error_rate_spike" in _kinds()
    count = Notification.objects.count()
    assert alerts.scan(now) == 0 and Notification.objects.count() == count     # same incident
    text = Notification.objects.get(kind="connection.error_rate_spike").body_text
    assert "4 of 12 attempts failed in the last hour (33%)" in text and "usually fails 0%" in text


def test_the_usual_error_rate_and_a_switched_off_detector_stay_quiet(org):
    now = timezone.now()
    record = make_record(org, status="exported")
    for hour in range(2, 40):
        _attempts(record, now - timedelta(hours=hour), [OK] * 8 + [RETRY] * 4)
    _attempts(record, now - timedelta(minutes=10), [OK] * 8 + [RETRY] * 4)
    alerts.scan(now)
    assert "connection.error_rate_spike" not in _kinds()   # 33 % is this connection's normal


def test_a_steady_exporter_that_goes_silent_alerts(org):
    now = timezone.now()
    for day in range(1, 15):
        make_record(org, status="exported", exported_at=now - timedelta(hours=13) - timedelta(days=day))
    alerts.scan(now)
    assert "connection.silent" in _kinds()
    text = Notification.objects.get(kind="connection.silent").body_text
    assert "Nothing exported for 12 h" in text and "on 13 of the previous 14 days" in text


def test_silence_detector_has_a_per_organisation_switch(org):
    now = timezone.now()
    connection_for(org)
    for day in range(1, 15):
        make_record(org, status="exported", exported_at=now - timedelta(hours=13) - timedelta(days=day))
    anomaly_setting_save(organization=org, detector="sync_silence", enabled=False)
    alerts.scan(now)
    assert "connection.silent" not in _kinds()
    anomaly_setting_save(organization=org, detector="sync_silence", enabled=True, threshold=48)
    alerts.scan(now)
    assert "connection.silent" not in _kinds()             # 13 h quiet is under the organisation's 48 h
