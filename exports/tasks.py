"""django-q2 tasks: thin doorbells. The database is the source of truth; a lost message only
delays work until the sweeper rings again."""

from django_q.tasks import async_task

from .services import import_failures, sweeper, sync, worker


def export_record(record_id: int) -> str:
    return worker.record_process(record_id=record_id)


def sweep() -> dict:
    return sweeper.records_sweep()


def sync_run_execute(sync_run_id: int) -> str:
    return sync.sync_run_execute(sync_run_id=sync_run_id)


def enqueue(record_ids) -> None:
    for record_id in record_ids:
        async_task("exports.tasks.export_record", record_id, group="exports")


def import_failures_poll() -> dict:
    return import_failures.import_failures_poll_due()
