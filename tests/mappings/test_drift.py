"""Categoriser drift: weekly accuracy on reviewer corrections, the dashboard panel, the alert."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from expensico_sync.core.roles import Role
from expensico_sync.notify.models import Notification
from mappings.drift import categoriser_drift_panel, drift_of, weekly_accuracy
from mappings.models import CategoriserModel, CodingCorrection
from tests.core.factories import make_member, make_org

from .factories import make_connection

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 25)          # a Wednesday


def _answers(connection, day, right, wrong):
    rows = [CodingCorrection(connection=connection, organization_id=connection.organization_id,
                             source_id=f"e{day}{i}", account="6100" if i < right else "6200",
                             predicted_account="6100", accepted=i < right)
            for i in range(right + wrong)]
    created = CodingCorrection.objects.bulk_create(rows)
    CodingCorrection.objects.filter(pk__in=[c.pk for c in created]).update(
        created_at=datetime(day.year, day.month, day.day, 12, tzinfo=UTC))


@pytest.fixture
def connection(db):
    org = make_org("drift")
    make_member(org, Role.OWNER)
    connection = make_connection(org)
    CategoriserModel.objects.create(connection=connection, version=3, status="promoted", trained_at=timezone.now(),
                                    training_size=500, heldout_accuracy=0.92, sklearn_version="x", blob=b"")
    return connection


def test_weekly_accuracy_and_drift(connection):
    _answers(connection, date(2026, 11, 10), right=28, wrong=2)      # week of 9 Nov: 93 %
    _answers(connection, date(2026, 11, 18), right=15, wrong=10)     # week of 16 Nov: 60 %
    weeks = weekly_accuracy(connection, today=TODAY)
    assert [w.start for w in weeks[-3:]] == [date(2026, 11, 9), date(2026, 11, 16), date(2026, 11, 23)]
    assert [(w.answered, w.right) for w in weeks[-3:]] == [(30, 28), (25, 15), (0, 0)]
    assert drift_of(connection, today=date(2026, 11, 17)) == ""      # last week was fine
    text = drift_of(connection, today=TODAY)
    assert text.startswith("Model v3 was right on 15 of 25 suggestions") and "(60%)" in text and "92%" in text


def test_too_few_answers_is_no_drift(connection):
    _answers(connection, date(2026, 11, 18), right=5, wrong=10)
    assert drift_of(connection, today=TODAY) == ""


def test_drift_alerts_through_the_notifications_and_shows_on_the_dashboard(connection):
    from exports import alerts

    monday = timezone.localdate() - timedelta(days=timezone.localdate().weekday())
    _answers(connection, monday - timedelta(days=5), right=10, wrong=15)
    alerts.scan()
    assert Notification.objects.filter(kind="categoriser.drift").count() == 1
    alerts.scan()
    assert Notification.objects.filter(kind="categoriser.drift").count() == 1    # one incident, one alert
    panel = categoriser_drift_panel(None, [connection.organization_id])
    assert panel["kpis"][0]["value"] == "40%" and "drift" in panel["charts"][0]["title"]
