"""Issue 16: gaps as an anti-join, the same answers as before, and cached for the pages."""

from datetime import timedelta

import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from expensico_sync.source.models import Expense
from exports.models import ExportRecord
from mappings.dashboard import cached_gaps
from mappings.documents import document_from_expense
from mappings.selectors import gaps_from_documents, mapping_gaps, mapping_snapshot
from mappings.settings import ConnectionSettings
from tests.mappings.factories import make_category_mapping
from tests.source.factories import expense_payload, make_report, report_payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def mirrored(org, connection):
    make_report(org, report_payload(1, expenses=[
        expense_payload(1), expense_payload(2, category={"id": "c_tr", "code": "TRAVEL", "name": "Travel"}),
        expense_payload(3, currency="KWD", amount="1.250", tax=None, dimensions={}),
        expense_payload(4, category={"id": "c_tr", "code": "TRAVEL", "name": "Travel"}, amount="-20.00")]))
    make_report(org, report_payload(2, expenses=[expense_payload(5), expense_payload(6)]))
    for n, status in ((1, "exported"), (5, "exported"), (6, "needs_review")):
        e = Expense.objects.get(expensico_id=f"exp_{n}")
        ExportRecord.objects.filter(expense=e, connection=connection).delete()
        ExportRecord.objects.create(organization=org, connection=connection, kind="expense", source_id=e.expensico_id,
                                    expense=e, reference=f"EXPENSICO-{e.expensico_id}-v1", status=status)


def gaps_as_before(connection):
    """The pre-issue-16 query (`exclude(pk__in=…)`, NOT IN), kept here to prove the answers did not move."""
    exported = ExportRecord.objects.filter(connection=connection, status="exported", expense__isnull=False)
    expenses = (Expense.objects.filter(organization_id=connection.organization_id, status="approved")
                .exclude(pk__in=exported.values("expense_id")).select_related("report", "category", "card", "employee")
                .prefetch_related("receipts"))
    return gaps_from_documents((document_from_expense(e) for e in expenses), mapping_snapshot(connection),
                               ConnectionSettings.from_connection(connection))


def test_gaps_are_the_same_as_before_the_rewrite(connection, mirrored):
    assert mapping_gaps(connection) == gaps_as_before(connection)
    assert {r["key"]: r["expenses"] for r in mapping_gaps(connection) if r["kind"] == "category"} == {
        "OFF": 2, "TRAVEL": 2}  # exp_1 and exp_5 are booked; exp_6 waits in review, so still blocked
    make_category_mapping(connection, "OFF")
    assert mapping_gaps(connection) == gaps_as_before(connection)


def test_gaps_read_the_open_expenses_with_not_exists(connection, mirrored):
    with CaptureQueriesContext(db) as ctx:
        mapping_gaps(connection)
    expenses = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith('SELECT "source_expense"')]
    assert expenses and all("NOT EXISTS" in q.upper() for q in expenses)
    assert not [q for q in expenses if '"source_expense"."id" IN (SELECT' in q]


def test_cached_gaps_follow_mapping_changes_at_once_and_new_expenses_in_the_background(connection, mirrored, org,
                                                                                       time_machine):
    first = cached_gaps(connection)
    make_report(org, report_payload(3, expenses=[expense_payload(7, category={"id": "c_x", "code": "X", "name": "X"})]))
    with CaptureQueriesContext(db) as ctx:
        assert cached_gaps(connection) == first  # served from the cache: no scan of the expenses
    assert not [q for q in ctx.captured_queries if "source_expense" in q["sql"]]
    make_category_mapping(connection, "TRAVEL")  # a new mapping version: recomputed at once
    keys = {r["key"] for r in cached_gaps(connection)}
    assert "TRAVEL" not in keys and "X" in keys
    time_machine.move_to(timezone.now() + timedelta(minutes=2))
    make_report(org, report_payload(4, expenses=[expense_payload(8, category={"id": "c_y", "code": "Y", "name": "Y"})]))
    assert "Y" not in {r["key"] for r in cached_gaps(connection)}  # stale: served, refresh queued (inline here)
    assert "Y" in {r["key"] for r in cached_gaps(connection)}


def test_cached_gaps_close_when_the_connection_gets_its_account(connection, mirrored):
    """The setup page listed "setting Employee Claims" as missing right under the step that had just
    saved it: the cache followed mapping changes only."""
    from connectors.models import Connection

    Connection.objects.filter(pk=connection.pk).update(employee_claims_account="")
    connection.refresh_from_db()
    assert "setting" in {r["kind"] for r in cached_gaps(connection)}
    Connection.objects.filter(pk=connection.pk).update(employee_claims_account="acc-claims")
    connection.refresh_from_db()
    assert "setting" not in {r["kind"] for r in cached_gaps(connection)}
