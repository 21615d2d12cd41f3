"""In a real browser: run a month's reconciliation (confirming a billed vendor's request cost),
read its rows and differences with their drill-downs, explain one, and see the dashboard panel.
Screenshots go to test-artifacts/."""

import os
from datetime import date
from decimal import Decimal

import pytest
from django.core.cache import cache

from connectors import base
from exports.models import ExportRecord
from exports.reconcile.models import Reconciliation, ReconciliationDifference
from tests.conftest import admin_login
from tests.core.factories import make_org
from tests.exports.reconcile import fake_ledger
from tests.exports.reconcile.conftest import ledger_connection
from tests.exports.reconcile.month import a_month

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _fakes():
    cache.clear()
    for cls in (fake_ledger.ReadBackFake, fake_ledger.BudgetedFake):
        base._registry[cls.system] = cls
    yield
    fake_ledger.EXTRA.clear()
    for cls in (fake_ledger.ReadBackFake, fake_ledger.BudgetedFake):
        base._registry.pop(cls.system, None)


def shot(page, artifacts_dir, name):
    page.screenshot(path=os.path.join(artifacts_dir, name), full_page=True)


def test_a_finance_admin_reconciles_a_month_and_explains_a_difference(page, live_server, artifacts_dir):
    org = make_org("recon-e2e", mode="live")
    books = ledger_connection(org, system="fake_budget", name="Billed books")
    a_month(org)
    deleted = ExportRecord.objects.get(reference="EXPENSICO-exp_1-v1")
    fake_ledger.tamper_delete(books, deleted.external_id)
    fake_ledger.tamper_manual_post(books, "acc-balance", Decimal("25.00"), date(2026, 11, 9), "SAR")
    admin_login(page, live_server)

    page.goto(f"{live_server.url}/admin/exports/reconciliation/add/")
    page.select_option("select[name=connection]", str(books.pk))
    page.fill("input[name=month]", "2026-11")
    page.locator("button[type=submit][name=_save]").click()
    page.wait_for_load_state()
    shot(page, artifacts_dir, "reconciliation-confirm-cost.png")
    assert page.locator("text=vendor requests of a monthly budget of 5000").first.is_visible()
    assert not Reconciliation.objects.exists()
    page.check("input[name=confirm_cost]")
    page.locator("button[type=submit][name=_save]").click()
    page.wait_for_url(f"{live_server.url}/admin/exports/reconciliation/")
    run = Reconciliation.objects.get()
    assert run.status == "finished"

    page.goto(f"{live_server.url}/admin/exports/reconciliation/{run.pk}/change/")
    assert page.locator("text=Missing in the vendor").first.is_visible()
    assert page.locator("text=booked by hand in the vendor").first.is_visible()
    assert page.locator("a", has_text="call log").first.is_visible()
    # Tall enough that the sticky submit row does not sit on the tables in a full-page capture.
    page.set_viewport_size({"width": 1440, "height": 1400})
    shot(page, artifacts_dir, "reconciliation-detail.png")
    page.set_viewport_size({"width": 1440, "height": 900})

    page.goto(f"{live_server.url}/admin/exports/reconciliationdifference/?reconciliation__id__exact={run.pk}")
    shot(page, artifacts_dir, "reconciliation-differences.png")
    manual = run.differences.get(kind="extra_in_vendor")
    page.goto(f"{live_server.url}/admin/exports/reconciliationdifference/{manual.pk}/change/")
    page.fill("textarea[name=explanation]", "Opening balance correction by the accountant")
    shot(page, artifacts_dir, "reconciliation-explain.png")
    page.locator("button[type=submit][name=_save]").click()
    page.wait_for_url(f"{live_server.url}/admin/exports/reconciliationdifference/**")
    manual = ReconciliationDifference.objects.get(pk=manual.pk)
    assert manual.explained and manual.explained_by_label == "admin"

    cache.clear()
    page.goto(f"{live_server.url}/admin/")
    shot(page, artifacts_dir, "dashboard-reconciliation-progress.png")
    assert page.locator("text=Reconciliation progress").first.is_visible()
