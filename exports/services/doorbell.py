"""Ringing the workers: one django-q2 message per record or sync run. The database is the source
of truth; a lost message only delays work until the sweeper rings again. The task functions in
exports/tasks.py are named by string, so this module never imports them (tasks import services,
never the reverse)."""

from collections.abc import Iterable

from django_q import tasks as q


def records_enqueue(*, record_ids: Iterable[int]) -> None:
    for record_id in record_ids:
        q.async_task("exports.tasks.export_record", record_id, group="exports")


def sync_runs_enqueue(*, run_ids: Iterable[int]) -> None:
    for run_id in run_ids:
        q.async_task("exports.tasks.sync_run_execute", run_id, group="sync")
