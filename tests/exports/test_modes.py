"""Organisation modes: dry_run previews and sends nothing, pilot exports only its scope, paused
waits; switching mode brings the waiting records back."""

import pytest

from expensico_sync.source.models import Category, Employee
from exports.models import ExportAttempt, ExportRecord, PilotScope
from exports.services.worker import records_work_due
from exports.transitions import Status

from .conftest import approve, expense

pytestmark = pytest.mark.django_db


def work():
    return records_work_due(limit=100)


def set_mode(org, mode, capture):
    org.mode = mode
    with capture(execute=True):
        org.save()


def test_dry_run_builds_previews_and_calls_nothing(org, conn, vendor, django_capture_on_commit_callbacks):
    org.mode = "dry_run"
    org.save()
    approve(org, expense("exp_1"))
    assert work() == {"pending": 1}
    record = ExportRecord.objects.get()
    assert record.status == Status.PENDING and record.next_attempt_at is None
    assert record.wait_reason.startswith("dry run")
    assert record.entry_preview["reference"] == "EXPENSICO-exp_1-v1"
    assert record.payload_preview == {"reference": "EXPENSICO-exp_1-v1", "amount": "115.00"}
    assert record.export_attempts.get().outcome == ExportAttempt.Outcome.DRY_RUN
    assert vendor.pushes == 0 and vendor.finds == 0
    assert work() == {}  # not due again until something changes

    set_mode(org, "live", django_capture_on_commit_callbacks)  # the doorbell runs the worker inline
    record.refresh_from_db()
    assert record.status == Status.EXPORTED and vendor.pushes == 1


def test_paused_waits_and_resumes(org, conn, vendor, django_capture_on_commit_callbacks):
    org.mode = "paused"
    org.save()
    approve(org, expense("exp_1"))
    assert work() == {"pending": 1}
    record = ExportRecord.objects.get()
    assert record.entry_preview is None and vendor.pushes == 0
    set_mode(org, "live", django_capture_on_commit_callbacks)
    assert ExportRecord.objects.get().status == Status.EXPORTED


def test_pilot_exports_chosen_employees_or_categories_only(org, conn, vendor, django_capture_on_commit_callbacks):
    org.mode = "pilot"
    org.save()
    approve(org, expense("exp_1"), rid="rpt_1", employee=("emp_1", "Noura"))
    approve(org, expense("exp_2"), rid="rpt_2", employee=("emp_2", "Sami"))
    approve(org, expense("exp_3", category="MEALS"), rid="rpt_3", employee=("emp_3", "Huda"))
    scope = PilotScope.objects.create(organization=org)
    scope.employees.add(Employee.objects.get(expensico_id="emp_1"))
    scope.categories.add(Category.objects.get(code="MEALS"))
    work()
    statuses = dict(ExportRecord.objects.values_list("source_id", "status"))
    assert statuses == {"exp_1": "exported", "exp_2": "pending", "exp_3": "exported"}
    assert ExportRecord.objects.get(source_id="exp_2").wait_reason.startswith("pilot")

    with django_capture_on_commit_callbacks(execute=True):
        scope.employees.add(Employee.objects.get(expensico_id="emp_2"))
    assert ExportRecord.objects.get(source_id="exp_2").status == Status.EXPORTED


def test_pilot_never_holds_back_a_reversal(org, conn, vendor):
    from .conftest import cancel

    approve(org, expense("exp_1"))
    work()
    org.mode = "pilot"
    org.save()
    cancel(org)
    work()
    assert ExportRecord.objects.get(kind="reversal").status == Status.EXPORTED
