"""The import-failure poll without a vendor: capability discovery, the schedule, the status edge."""

from importlib import import_module

import pytest
from django.apps import apps

from exports.services import import_failures as service
from exports.services import seed
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
        seed.record_apply_callback(record=record, status=Status.NEEDS_REVIEW, detail="no")
    record.refresh_from_db()
    assert record.status == Status.EXPORTED
