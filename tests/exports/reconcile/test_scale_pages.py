"""Reconciliation pages at a year of data: the run's page shows its first differences and links to
the rest; the admin list and the API read the difference counts without a query per run."""

from datetime import date

import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from expensico_sync.core.roles import Role
from exports.reconcile.admin import DIFFERENCES_SHOWN
from exports.reconcile.models import Reconciliation, ReconciliationDifference
from tests.core.factories import make_member

from .conftest import ledger_connection
from .test_api import client_as

pytestmark = pytest.mark.django_db


def runs(org, books, count, differences=0, explained=0):
    made = Reconciliation.objects.bulk_create([
        Reconciliation(organization=org, connection=books, period=date(2026, 1 + i % 12, 1), status="finished")
        for i in range(count)])
    for run in made:
        ReconciliationDifference.objects.bulk_create([
            ReconciliationDifference(reconciliation=run, kind="not_exported", currency="SAR",
                                     reference=f"EXPENSICO-exp_{run.pk}_{i}-v1", explanation="late" if i < explained
                                     else "", explained_at=run.created_at if i < explained else None)
            for i in range(differences)])
    return made


@pytest.fixture
def books(org):
    return ledger_connection(org)


def test_a_run_page_shows_its_first_differences_and_links_to_all(client, org, books):
    run, = runs(org, books, 1, differences=DIFFERENCES_SHOWN + 30)
    client.force_login(make_member(org, role=Role.FINANCE_ADMIN))
    page = client.get(reverse("admin:exports_reconciliation_change", args=[run.pk])).content.decode()
    assert page.count("EXPENSICO-exp_") == DIFFERENCES_SHOWN
    assert f"The first {DIFFERENCES_SHOWN} of {DIFFERENCES_SHOWN + 30} differences" in page
    assert f"?reconciliation__id__exact={run.pk}" in page


def test_a_run_with_few_differences_shows_them_all(client, org, books):
    run, = runs(org, books, 1, differences=3)
    client.force_login(make_member(org, role=Role.FINANCE_ADMIN))
    page = client.get(reverse("admin:exports_reconciliation_change", args=[run.pk])).content.decode()
    assert page.count("EXPENSICO-exp_") == 3 and "The first" not in page


def _queries(client, url) -> tuple[int, str]:
    with CaptureQueriesContext(db) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), response.content.decode()


def test_the_admin_list_counts_differences_without_a_query_per_run(client, org, books):
    client.force_login(make_member(org, role=Role.FINANCE_ADMIN))
    url = reverse("admin:exports_reconciliation_changelist")
    runs(org, books, 2, differences=4, explained=1)
    few, page = _queries(client, url)
    assert page.count("4 · 1 explained") == 2
    runs(org, books, 6, differences=2)
    many, page = _queries(client, url)
    assert many == few and page.count("2 · 0 explained") == 6


def test_the_api_list_counts_differences_without_a_query_per_run(client, org, books):
    api = client_as(client, org, Role.FINANCE_ADMIN)
    runs(org, books, 2, differences=3)
    api.get("/api/v1/reconciliations")  # the key's first use writes once
    with CaptureQueriesContext(db) as ctx:
        body = api.get("/api/v1/reconciliations").json()
    few = len(ctx.captured_queries)
    assert [r["differences"] for r in body["results"]] == [3, 3]
    runs(org, books, 5)
    with CaptureQueriesContext(db) as ctx:
        body = api.get("/api/v1/reconciliations").json()
    assert len(ctx.captured_queries) == few
    assert [r["differences"] for r in body["results"]] == [0] * 5 + [3, 3]



def test_a_run_page_reads_its_rows_and_differences_once(client, org, books):
    """Unfold renders a read-only field's value more than once: the tables are built once each, so
    the page's queries do not grow with the run (was 18 queries, each table read 5 times)."""
    from exports.reconcile.models import ReconciliationRow

    run, = runs(org, books, 1, differences=3)
    ReconciliationRow.objects.bulk_create([
        ReconciliationRow(reconciliation=run, account_kind="expense", account=f"acc-{i}", currency="SAR",
                          expensico=0, booked=0, vendor=0, difference=0) for i in range(3)])
    client.force_login(make_member(org, role=Role.FINANCE_ADMIN))
    url = reverse("admin:exports_reconciliation_change", args=[run.pk])
    client.get(url)
    with CaptureQueriesContext(db) as ctx:
        assert client.get(url).status_code == 200
    sql = [q["sql"] for q in ctx.captured_queries]
    assert sum(q.startswith('SELECT "exports_reconciliationrow".') for q in sql) == 1
    assert sum(q.startswith('SELECT "exports_reconciliationdifference".') for q in sql) == 1
    few = len(sql)
    ReconciliationDifference.objects.bulk_create([
        ReconciliationDifference(reconciliation=run, kind="amount_differs", currency="SAR", reference=f"R-{i}")
        for i in range(40)])
    ReconciliationRow.objects.bulk_create([
        ReconciliationRow(reconciliation=run, account_kind="expense", account=f"more-{i}", currency="SAR",
                          expensico=0, booked=0, vendor=0, difference=0) for i in range(40)])
    many, page = _queries(client, url)
    assert many == few and page.count("R-") >= 40
