"""/api/v1/reconciliations: run, rows, differences, explanation; roles and organisation scope."""

from datetime import date
from decimal import Decimal

import pytest

from expensico_sync.core.roles import Role
from expensico_sync.core.services import api_key_create
from exports.reconcile.models import Reconciliation
from tests.core.factories import make_org

from . import fake_ledger
from .conftest import ledger_connection
from .month import a_month

pytestmark = pytest.mark.django_db
LIST = "/api/v1/reconciliations"


def client_as(client, org, role):
    _, key = api_key_create(organization=org, role=role, name=f"key-{role}")
    client.defaults["HTTP_AUTHORIZATION"] = f"Api-Key {key}"
    return client


def errors_of(response):
    return {e.get("attr"): e["code"] for e in response.json()["errors"]}


def test_finance_admin_runs_a_month_and_reads_rows_and_differences(client, org, books,
                                                                   django_capture_on_commit_callbacks):
    a_month(org)
    manual = fake_ledger.tamper_manual_post(books, "acc-balance", Decimal("25.00"), date(2026, 11, 9), "SAR")
    api = client_as(client, org, Role.FINANCE_ADMIN)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(LIST, {"connection": books.pk, "period": "2026-11"}, content_type="application/json")
    assert response.status_code == 201, response.content
    run = api.get(f"{LIST}/{response.json()['id']}").json()
    assert run["status"] == "finished" and run["period"] == "2026-11" and run["differences"] == 1
    balance = next(r for r in run["rows"] if r["account_kind"] == "employees_balance")
    assert balance == {"account_kind": "employees_balance", "account": "acc-balance", "currency": "SAR",
                       "expensico": "399.50", "booked": "399.50", "vendor": "424.50", "difference": "25.00",
                       "vendor_source": "lines"}
    diffs = api.get(run["differences_url"]).json()["results"]
    assert [(d["kind"], d["external_id"], d["actual"]) for d in diffs] == [("extra_in_vendor", manual, "25.00")]
    explained = api.post(f"{LIST}/{run['id']}/differences/{diffs[0]['id']}/explain",
                         {"note": "opening balance correction"}, content_type="application/json")
    assert explained.status_code == 200 and explained.json()["explanation"] == "opening balance correction"
    assert explained.json()["explained_at"]
    assert api.get(LIST, {"connection": books.pk}).json()["results"][0]["id"] == run["id"]


def test_drill_down_ids_lead_to_the_record_receipts_and_call_log(client, org, books,
                                                                  django_capture_on_commit_callbacks):
    from exports.models import ExportRecord

    a_month(org)
    record = ExportRecord.objects.get(reference="EXPENSICO-exp_1-v1")
    fake_ledger.tamper_delete(books, record.external_id)
    api = client_as(client, org, Role.FINANCE_ADMIN)
    with django_capture_on_commit_callbacks(execute=True):
        run_id = api.post(LIST, {"connection": books.pk, "period": "2026-11"},
                          content_type="application/json").json()["id"]
    diff = api.get(f"{LIST}/{run_id}/differences").json()["results"][0]
    assert (diff["kind"], diff["record"], diff["source_id"]) == ("missing_in_vendor", record.pk, "exp_1")
    assert diff["call_log_key"] == str(record.idempotency_key)
    assert diff["receipts"] == [r.pk for r in record.expense.receipts.all()]


def test_viewers_read_but_do_not_run_or_explain(client, org, books):
    run = Reconciliation.objects.create(organization=org, connection=books, period=date(2026, 11, 1))
    api = client_as(client, org, Role.VIEWER)
    assert api.get(f"{LIST}/{run.pk}").status_code == 200
    assert api.post(LIST, {"connection": books.pk, "period": "2026-11"},
                    content_type="application/json").status_code == 403


def test_other_organisations_see_nothing(client, org, books):
    run = Reconciliation.objects.create(organization=org, connection=books, period=date(2026, 11, 1))
    other = make_org("other")
    api = client_as(client, other, Role.FINANCE_ADMIN)
    assert api.get(f"{LIST}/{run.pk}").status_code == 404
    assert api.get(LIST).json()["results"] == []
    response = api.post(LIST, {"connection": books.pk, "period": "2026-11"}, content_type="application/json")
    assert response.status_code == 400 and "connection" in errors_of(response)


def test_bad_period_and_unconfirmed_cost_name_the_field(client, org, books):
    api = client_as(client, org, Role.FINANCE_ADMIN)
    response = api.post(LIST, {"connection": books.pk, "period": "2026-13"}, content_type="application/json")
    assert response.status_code == 400 and errors_of(response) == {"period": "invalid_period"}
    budgeted = ledger_connection(org, system="fake_budget", name="Budgeted")
    estimate = api.get(f"{LIST}/estimate", {"connection": budgeted.pk, "period": "2026-11"}).json()
    assert estimate == {"reads_back": True, "documents": 0, "requests_estimate": 1, "request_budget": 5000,
                        "needs_confirmation": True}
    response = api.post(LIST, {"connection": budgeted.pk, "period": "2026-11"}, content_type="application/json")
    assert response.status_code == 400 and errors_of(response) == {"confirm_cost": "confirm_cost"}
    response = api.post(LIST, {"connection": budgeted.pk, "period": "2026-11", "confirm_cost": True},
                        content_type="application/json")
    assert response.status_code == 201 and response.json()["requests_estimate"] == 1
