"""Ringing the workers: one django-q2 message per record or sync run. The database is the source
of truth; a lost message only delays work until the sweeper rings again. The task functions in
exports/tasks.py are named by string, so this module never imports them (tasks import services,
never the reverse)."""

from collections.abc import Iterable

from django_q import tasks as q
from django_q.brokers import get_broker


def records_enqueue(*, record_ids: Iterable[int]) -> None:
    # One broker for all the messages: django-q2 otherwise opens a new Redis connection for each
    # (a 100-expense webhook rings 100 times before its 202 is sent).
    broker = get_broker()
    for record_id in record_ids:
        q.async_task("exports.tasks.export_record", record_id, group="exports", broker=broker)


def sync_runs_enqueue(*, run_ids: Iterable[int]) -> None:
    broker = get_broker()
    for run_id in run_ids:
        q.async_task("exports.tasks.sync_run_execute", run_id, group="sync", broker=broker)
