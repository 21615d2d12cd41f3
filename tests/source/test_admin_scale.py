"""Issue 16: the mirror's changelists cost the same at any size (queries counted, never timed)."""

import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from connectors.models import CallLog, Connection
from expensico_sync.core.roles import Role
from tests.core.factories import make_member

from .factories import expense_payload, make_report, report_payload

pytestmark = pytest.mark.django_db


def sql_of(client, name, **params):
    with CaptureQueriesContext(db) as ctx:
        assert client.get(reverse(name), params).status_code == 200
    return [q["sql"] for q in ctx.captured_queries]


def test_report_and_expense_changelists_do_not_grow_with_the_rows(client, org):
    client.force_login(make_member(org, Role.FINANCE_ADMIN))
    make_report(org, report_payload(1, expenses=[expense_payload(1)]))
    for name in ("admin:source_expensereport_changelist", "admin:source_expense_changelist"):
        sql_of(client, name)  # fills the filters' caches
    few = [len(sql_of(client, n)) for n in ("admin:source_expensereport_changelist", "admin:source_expense_changelist")]
    for r in range(2, 8):
        make_report(org, report_payload(r, expenses=[expense_payload(r * 10 + i) for i in range(3)]))
    many = [len(sql_of(client, n)) for n in ("admin:source_expensereport_changelist", "admin:source_expense_changelist")]
    assert many == few  # the report's expense count was one COUNT per row


def test_expense_changelist_neither_groups_receipts_nor_lists_distinct_currencies_per_request(client, org):
    client.force_login(make_member(org, Role.FINANCE_ADMIN))
    make_report(org, report_payload(1, expenses=[expense_payload(1), expense_payload(2, currency="KWD")]))
    sql_of(client, "admin:source_expense_changelist")  # fills the currency filter's cache
    sql = sql_of(client, "admin:source_expense_changelist")
    assert not [q for q in sql if "GROUP BY" in q and "source_expense" in q]
    assert not [q for q in sql if "DISTINCT" in q and "source_expense" in q]
    shown = client.get(reverse("admin:source_expense_changelist"), {"currency": "KWD"}).context["cl"].result_list
    assert [e.expensico_id for e in shown] == ["exp_2"]


def test_call_log_filters_are_fixed_choices(client, org):
    client.force_login(make_member(org, Role.OWNER))
    conn = Connection.objects.create(organization=org, system="wafeq", name="Books", base_url="http://x.invalid/")
    CallLog.objects.create(connection=conn, method="GET", path="/v1/x", status=503, error_class="Transient")
    CallLog.objects.create(connection=conn, method="POST", path="/v1/y", status=201)
    sql = sql_of(client, "admin:connectors_calllog_changelist")
    assert not [q for q in sql if "DISTINCT" in q and "connectors_calllog" in q]
    response = client.get(reverse("admin:connectors_calllog_changelist"), {"error_class": "Transient"})
    assert [c.path for c in response.context["cl"].result_list] == ["/v1/x"]
    assert "ClientRateLimited" in response.content.decode()  # every class of the taxonomy is offered


def test_the_employee_filter_is_an_autocomplete_not_a_list_of_every_employee(client, org):
    client.force_login(make_member(org, Role.FINANCE_ADMIN))
    make_report(org, report_payload(1, expenses=[expense_payload(1)]))
    for name in ("admin:source_expense_changelist", "admin:source_expensereport_changelist"):
        sql_of(client, name)
        assert not [q for q in sql_of(client, name) if q.startswith('SELECT "source_employee"')], name
