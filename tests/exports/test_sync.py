"""Manual / historical sync: what is already at the vendor is found by reference (batched), the
rest is exported, and the run's counters end at found = already there + exported + held + failed."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from exports.models import ExportRecord, SyncRun
from exports.services.sync import sync_run_execute, sync_run_refresh
from exports.services.worker import records_work_due
from exports.transitions import Status

from .conftest import approve, deliver, expense, make_connection

pytestmark = pytest.mark.django_db


def test_historical_sync_looks_up_first_then_exports_the_rest(org, conn, vendor):
    from mappings.models import CategoryMapping, HoldRule

    # The mirror already holds documents (from webhooks) but this connection is new.
    approve(org, expense("exp_1"), expense("exp_2"), expense("exp_3", category="MEALS"))
    deliver(org, "card.funded", {"funding": {
        "id": "fnd_1", "card": {"id": "card_1", "last4": "4242"}, "employee": {"id": "emp_1", "name": "Noura"},
        "amount": "500.00", "currency": "SAR", "date": "2026-11-01", "bank_reference": "", "description": ""}})
    ExportRecord.objects.all().delete()
    books = make_connection(org, name="New books")
    for code in ("TRAVEL", "MEALS"):
        CategoryMapping.objects.create(connection=books, category_code=code, account=f"acc-{code.lower()}")
    HoldRule.objects.create(connection=books, name="Meals need a look", categories=["MEALS"])
    # exp_1 was booked by hand at the vendor earlier.
    from exports.services.actions import map_to_accounting_schema

    from .fake import FakeConnector, vendor_for

    entry = map_to_accounting_schema(expense="exp_1", target=books)
    assert entry["ok"] and entry["entry"]["reference"] == "EXPENSICO-exp_1-v1"
    from exports.entries import entry_from_json

    FakeConnector(books).push(entry_from_json(entry["entry"]), "manual-key")
    remote = vendor_for(books)

    run = SyncRun.objects.create(organization=org, connection=books, date_from=date(2026, 11, 1),
                                 date_to=date(2026, 11, 30))
    assert sync_run_execute(sync_run_id=run.pk) == "exporting"
    run.refresh_from_db()
    assert run.found == 4 and run.already_there == 1
    assert remote.finds == 1  # one batched look-up for the whole run
    records_work_due(limit=100)
    run = sync_run_refresh(sync_run=run)
    assert run.status == "finished" and run.progress == 100
    assert (run.found, run.already_there, run.exported, run.held, run.failed) == (4, 1, 2, 1, 0)
    assert remote.pushes == 3  # the manual one + exp_2 + the funding; exp_1 never re-sent
    assert ExportRecord.objects.get(connection=books, source_id="exp_1").status == Status.EXPORTED


def test_sync_run_from_the_pull_api_marks_records_for_reconciliation(org, conn, vendor, monkeypatch):
    """Documents that arrive through the pull are looked up before they could ever be sent."""
    pulled = []

    def fake_pull(run):
        approve(org, expense("exp_9"))
        pulled.append(run.pk)

    monkeypatch.setattr("exports.services.sync._pull", fake_pull)
    run = SyncRun.objects.create(organization=org, connection=conn, date_from=date(2026, 11, 1),
                                 date_to=date(2026, 11, 30))
    sync_run_execute(sync_run_id=run.pk)
    assert pulled == [run.pk]
    record = ExportRecord.objects.get(source_id="exp_9")
    assert record.sync_run_id == run.pk and record.status == Status.PENDING and not record.needs_reconcile
    assert vendor.finds == 1


def test_failed_pull_fails_the_run(org, conn, monkeypatch):
    def broken(run):
        raise RuntimeError("Expensico is down")

    monkeypatch.setattr("exports.services.sync._pull", broken)
    run = SyncRun.objects.create(organization=org, connection=conn, date_from=date(2026, 11, 1),
                                 date_to=date(2026, 11, 30))
    with pytest.raises(RuntimeError):
        sync_run_execute(sync_run_id=run.pk)
    run.refresh_from_db()
    assert run.status == "failed" and "Expensico is down" in run.error


def test_a_dry_run_sync_calls_nothing(org, conn, vendor):
    org.mode = "dry_run"
    org.save()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("exports.services.records.enqueue_on_commit", lambda ids: None)
        approve(org, expense("exp_1"))
    ExportRecord.objects.all().delete()
    run = SyncRun.objects.create(organization=org, connection=conn, date_from=date(2026, 11, 1),
                                 date_to=date(2026, 11, 30))
    sync_run_execute(sync_run_id=run.pk)
    records_work_due(limit=10)
    record = ExportRecord.objects.get()
    assert record.needs_reconcile and record.entry_preview and vendor.finds == vendor.pushes == 0
    run = sync_run_refresh(sync_run=SyncRun.objects.get(pk=run.pk))
    assert run.status == "finished" and run.held == 1


def test_a_lost_sync_run_message_is_rung_again_by_the_sweeper(org, conn, vendor, monkeypatch,
                                                              django_capture_on_commit_callbacks):
    """The Redis broker has no delivery receipts: a worker killed while holding a sync run's
    execute message loses it, and the run would stay queued for ever."""
    from datetime import timedelta

    import django_q.tasks
    import time_machine
    from django.conf import settings
    from django.utils import timezone

    from exports.services.sweeper import records_sweep
    from exports.services.sync import sync_run_create

    with pytest.MonkeyPatch.context() as mp:
        lost = []
        mp.setattr(django_q.tasks, "async_task", lambda *args, **kwargs: lost.append(args))
        with django_capture_on_commit_callbacks(execute=True):
            run = sync_run_create(connection=conn, date_from=date(2026, 11, 1), date_to=date(2026, 11, 30))
    assert lost == [("exports.tasks.sync_run_execute", run.pk)]
    assert records_sweep()["sync_runs_rung"] == 0  # it may still be waiting in a long queue
    later = timezone.now() + timedelta(seconds=settings.Q_CLUSTER["retry"] + 1)
    with time_machine.travel(later, tick=False):
        assert records_sweep()["sync_runs_rung"] == 1
    run.refresh_from_db()
    assert run.status == "finished" and run.started_at == later


def test_one_execution_of_a_sync_run_at_a_time_and_a_dead_one_restarts(org, conn, vendor):
    from datetime import timedelta

    import time_machine
    from django.conf import settings
    from django.utils import timezone

    from exports.services.sweeper import records_sweep

    started = timezone.now()
    run = SyncRun.objects.create(organization=org, connection=conn, date_from=date(2026, 11, 1),
                                 date_to=date(2026, 11, 30), status="pulling", started_at=started)
    assert sync_run_execute(sync_run_id=run.pk) == "pulling"  # a second doorbell: someone is on it
    assert SyncRun.objects.get(pk=run.pk).started_at == started
    assert records_sweep()["sync_runs_rung"] == 0
    # Past the task limit django-q2 has killed that execution: the sweeper starts it again.
    with time_machine.travel(started + timedelta(seconds=settings.Q_CLUSTER["timeout"] + 1), tick=False):
        assert records_sweep()["sync_runs_rung"] == 1
    assert SyncRun.objects.get(pk=run.pk).status == "finished"


def test_reading_a_run_counts_live_but_changes_no_row(org, conn, vendor, admin_client, client):
    """The run's page, the runs list and the API show the recount; only the sweeper stores it."""
    from expensico_sync.core.roles import Role
    from expensico_sync.core.services import api_key_create

    approve(org, expense("exp_1"))
    records_work_due(limit=100)
    run = SyncRun.objects.create(organization=org, connection=conn, date_from=date(2026, 11, 1),
                                 date_to=date(2026, 11, 30), status=SyncRun.Status.EXPORTING,
                                 started_at=timezone.now() - timedelta(days=1))
    ExportRecord.objects.filter(connection=conn).update(sync_run=run)
    stored = lambda: SyncRun.objects.filter(pk=run.pk).values_list("status", "found", "exported").get()  # noqa: E731
    assert stored() == ("exporting", 0, 0)

    page = admin_client.get(f"/admin/exports/syncrun/{run.pk}/change/")
    assert page.status_code == 200 and page.context["original"].status == "finished"
    assert admin_client.get("/admin/exports/syncrun/").status_code == 200
    _, key = api_key_create(organization=org, role=Role.FINANCE_ADMIN, name="erp")
    body = client.get(f"/api/v1/sync-runs/{run.pk}", HTTP_AUTHORIZATION=f"Api-Key {key}").json()
    assert (body["status"], body["found"], body["exported"]) == ("finished", 1, 1)
    assert stored() == ("exporting", 0, 0)  # nothing written by reading

    sync_run_refresh(sync_run=SyncRun.objects.get(pk=run.pk))  # what the sweeper does
    assert stored() == ("finished", 1, 1)
