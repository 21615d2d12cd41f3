"""The import-failure poll without a vendor: capability discovery, the schedule, the status edge."""

from datetime import UTC, datetime, timedelta
from importlib import import_module

import pytest
from django.apps import apps

from exports.services import actions
from exports.services import import_failures as service
from exports.transitions import IllegalTransition, Status

from .factories import make_record

pytestmark = pytest.mark.django_db


def test_connectors_without_the_capability_are_never_polled(org, conn):
    make_record(org, connection=conn, status=Status.EXPORTED)
    assert service.connections_to_poll(force=True) == []
    assert service.import_failures_poll_due(force=True) == {"connections": 0, "errors": 0}


def test_the_schedule_runs_every_five_minutes():
    from django_q.models import Schedule

    migration = import_module("exports.migrations.0003_import_failures_poll_schedule")
    Schedule.objects.filter(name=migration.NAME).delete()   # a transactional test may have flushed it
    migration.add(apps, None)
    migration.add(apps, None)
    schedule = Schedule.objects.get(name=migration.NAME)
    assert (schedule.func, schedule.schedule_type, schedule.minutes) == (
        "exports.tasks.import_failures_poll", Schedule.MINUTES, 5)


def test_a_vendor_callback_cannot_unbook_an_exported_record(org):
    record = make_record(org, status=Status.EXPORTED, external_id="X-1")
    with pytest.raises(IllegalTransition):
        actions.record_apply_callback(record=record, status=Status.NEEDS_REVIEW, detail="no")
    record.refresh_from_db()
    assert record.status == Status.EXPORTED


T0 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


@pytest.mark.parametrize("polled_at, now, due", [
    (None, minutes(4), False),            # before the first point of the tail
    (None, minutes(5), True),
    (minutes(5), minutes(14), False),      # polled at +5: nothing until +15
    (minutes(5), minutes(15), True),
    (minutes(15), minutes(59), False),
    (minutes(15), minutes(60), True),
    (minutes(60), minutes(24 * 60 - 1), False),
    (minutes(60), minutes(24 * 60), True),
    (minutes(24 * 60), minutes(30 * 24 * 60), False),  # after the last point: idle costs nothing
    (None, minutes(30 * 24 * 60), True),    # never polled: once
    (minutes(4), minutes(12), True),        # a poll before the export does not count
])
def test_the_tail_after_the_last_export(polled_at, now, due):
    assert service.poll_due(last_export=T0, polled_at=polled_at, now=now) is due


def test_no_export_no_poll():
    assert not service.poll_due(last_export=None, polled_at=None, now=minutes(60))


def test_the_tail_is_a_setting(settings):
    settings.EXPORTS_IMPORT_FAILURE_POLL_MINUTES = (10, 30)
    assert service.watch_window() == timedelta(minutes=30)
    assert not service.poll_due(last_export=T0, polled_at=None, now=minutes(9))
    assert service.poll_due(last_export=T0, polled_at=minutes(10), now=minutes(30))
