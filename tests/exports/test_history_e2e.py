"""Seed 000's manual sync, end to end over real HTTP: the Expensico simulator's pull API → the
mirror → export records → one batched look-up at the Wafeq sandbox → the workers."""

from collections import Counter
from datetime import date

import pytest

from connectors.base import connector_for
from connectors.wafeq.sandbox import testkit
from expensico_sync.source.simulator.generator import generate
from expensico_sync.source.simulator.server import serve_in_thread
from exports.models import ExportRecord, SyncRun
from exports.services.sync import sync_run_execute, sync_run_refresh
from exports.services.worker import records_work_due
from mappings.models import CategoryMapping, TaxMapping

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def simulator():
    server = serve_in_thread(lambda url: generate(seed=7, scale=6, base_url=url), token="tok")
    yield server
    server.shutdown()


@pytest.fixture
def wafeq():
    server = testkit.start_sandbox()
    yield server
    server.stop()


def test_historical_sync_exports_what_is_missing_and_never_duplicates(org, simulator, wafeq):
    org.expensico_api_base_url, org.expensico_api_token = simulator.base_url, "tok"
    org.save()
    books = testkit.connect(wafeq, org)
    account = testkit._expense_account(wafeq.app)
    vat = next(t["id"] for t in wafeq.app.store["tax-rates"].values() if t["name"] == "VAT 15%")
    expenses = [e for r in simulator.state.dataset.reports for e in r["expenses"]]
    for code in {e["category"]["code"] for e in expenses}:
        CategoryMapping.objects.create(connection=books, category_code=code, account=account)
    for code in {(e.get("tax") or {}).get("code") for e in expenses} - {None}:
        TaxMapping.objects.create(connection=books, tax_code=code, tax_rate=vat)

    # One expense was already keyed in by hand at Wafeq under our reference.
    first = expenses[0]
    reference = f"EXPENSICO-{first['id']}-v{first['version']}"
    manual = testkit.sample_entry(wafeq, books, reference)
    connector_for(books).push(manual, "keyed-in-by-hand")

    run = SyncRun.objects.create(organization=org, connection=books, date_from=date(2026, 1, 1),
                                 date_to=date(2026, 12, 31))
    sync_run_execute(sync_run_id=run.pk)
    records_work_due(limit=500)  # whatever the doorbells did not finish
    run = sync_run_refresh(sync_run=SyncRun.objects.get(pk=run.pk))

    assert run.pull_sync.status == "succeeded"
    assert run.status == "finished", list(ExportRecord.objects.values("reference", "status", "last_error")[:5])
    assert run.found == ExportRecord.objects.filter(connection=books).count() >= len(expenses)
    assert run.found == run.already_there + run.exported + run.held + run.failed
    assert run.already_there == 1 and run.exported > 0
    assert ExportRecord.objects.get(reference=reference).external_id == testkit.held(wafeq, reference)[0]["id"]
    # Exactly once: no reference is held twice by the vendor.
    held = Counter(d["reference"] for d in wafeq.app.documents("expenses"))
    assert held and max(held.values()) == 1
