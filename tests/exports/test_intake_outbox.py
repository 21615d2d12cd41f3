"""The outbox rows a webhook writes before its 202: a constant number of SQL statements per
delivery whatever the number of expenses (bench/intake.py measures the speed; nothing is timed here)."""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from exports.models import ExportRecord
from exports.services import records
from exports.transitions import Status
from tests.source.helpers import approved, post_event

from .conftest import expense, make_connection, report

pytestmark = pytest.mark.django_db


def _statements(client, org, expenses: list[dict], rid: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = post_event(client, org, approved(report(expenses, rid=rid)), webhook_id=f"wh-{rid}")
    assert response.status_code == 202, response.content
    return len(ctx.captured_queries)


def test_a_100_expense_delivery_takes_the_same_statements_as_a_10_expense_one(client, org):
    books, other = make_connection(org), make_connection(org, name="Other books")
    small = _statements(client, org, [expense(f"exp_s{i}") for i in range(10)], "rpt_small")
    big = _statements(client, org, [expense(f"exp_b{i}") for i in range(100)], "rpt_big")

    # PostgreSQL takes each bulk INSERT in one statement; SQLite splits one at its 999-parameter
    # limit (an INSERT per ~30 rows): 90 more expenses may add a few statements there, never 90.
    allowed = 0 if connection.vendor == "postgresql" else 9
    assert big - small <= allowed, f"10 expenses took {small} statements, 100 took {big}"
    assert big <= 40, f"one 100-expense delivery took {big} statements"
    for conn in (books, other):
        mine = ExportRecord.objects.filter(connection=conn, kind="expense")
        assert mine.count() == 110 and set(mine.values_list("status", flat=True)) == {Status.PENDING}
        big_one = mine.get(source_id="exp_b7")
        assert (big_one.reference, big_one.document_date.isoformat()) == ("EXPENSICO-exp_b7-v1", "2026-11-02")
        assert big_one.expense.expensico_id == "exp_b7" and big_one.employee.expensico_id == "emp_1"


def test_a_new_version_still_retires_the_old_record_and_a_replay_adds_nothing(client, org):
    conn = make_connection(org)
    _statements(client, org, [expense(f"exp_{i}") for i in range(3)], "rpt_1")
    # The same expenses again under another delivery id: no second record.
    _statements(client, org, [expense(f"exp_{i}") for i in range(3)], "rpt_1b")
    assert ExportRecord.objects.filter(connection=conn).count() == 3
    _statements(client, org, [expense("exp_0", version=2, amount="120.00"), expense("exp_1")], "rpt_1c")
    by_version = dict(ExportRecord.objects.filter(connection=conn, source_id="exp_0")
                      .values_list("source_version", "status"))
    assert by_version == {1: Status.SUPERSEDED, 2: Status.PENDING}
    assert ExportRecord.objects.filter(connection=conn).count() == 4


def test_a_record_inserted_meanwhile_falls_back_to_get_or_create(org, monkeypatch):
    """Another transaction wrote one of the records between the look-up and the insert: the
    one-statement insert is refused by the unique key and each record is got-or-created."""
    conn = make_connection(org)
    from expensico_sync.source.models import Expense
    from tests.exports.conftest import approve

    approve(org, expense("exp_1"), expense("exp_2"))
    first = ExportRecord.objects.get(source_id="exp_1")
    ExportRecord.objects.filter(source_id="exp_2").delete()
    monkeypatch.setattr(records, "_expense_records_known", lambda connections, expenses: {})  # the look-up missed exp_1
    enqueued = []
    monkeypatch.setattr(records, "enqueue_on_commit", enqueued.extend)
    with transaction.atomic():
        created = records.expense_records_create(organization=org, expenses=list(Expense.objects.order_by("expensico_id")))

    assert [r.source_id for r in created] == ["exp_2"]
    assert ExportRecord.objects.filter(connection=conn).count() == 2
    assert sorted(enqueued) == sorted([first.pk, created[0].pk])
