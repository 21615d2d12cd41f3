"""The mapping-set screen in a real browser: tabs switch, gaps and history show, suggestions map."""

import os
from datetime import UTC, datetime

import pytest
import time_machine
from django.utils import timezone

from mappings.models import CategoryMapping, RemoteCatalogItem
from tests.conftest import admin_login
from tests.core.factories import make_org
from tests.mappings.factories import make_category_mapping, make_connection
from tests.source.factories import expense_payload, make_report, report_payload

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_mapping_set_screen(page, live_server, artifacts_dir):
    org = make_org("demo")
    conn = make_connection(org, name="Wafeq (sandbox)")
    for rid, code, name in [("a1", "6100", "Travel"), ("a2", "6200", "Meals & Entertainment"),
                            ("a3", "6300", "Office Supplies")]:
        RemoteCatalogItem.objects.create(connection=conn, kind="accounts", remote_id=rid, code=code, name=name,
                                         classification="EXPENSE", refreshed_at=timezone.now())
    with time_machine.travel(datetime(2026, 11, 2, 9, tzinfo=UTC), tick=False):
        travel = make_category_mapping(conn, "TRV-AIR", category_name="Air travel", account="a1", account_name="Travel")
    travel.account_name = "Travel (air)"
    travel.save()
    make_report(org, report_payload(1, expenses=[expense_payload(11, tax=None, dimensions={}),
                                                 expense_payload(12, amount="40.00", tax=None, dimensions={})]))

    admin_login(page, live_server)
    assert page.locator("text=Missing mappings").first.is_visible()

    page.goto(f"{live_server.url}/admin/mappings/mappingset/{conn.pk}/change/")
    gaps = page.locator("#gap-table")
    assert gaps.is_visible() and "SAR 155.000" in gaps.inner_text()
    page.screenshot(path=os.path.join(artifacts_dir, "mapping-set-gaps.png"), full_page=True)

    page.click("a[href='#history']")
    assert page.locator("#history-table").is_visible() and not gaps.is_visible()
    assert "Travel (air)" in page.locator("#history-table").inner_text()
    page.screenshot(path=os.path.join(artifacts_dir, "mapping-set-history.png"), full_page=True)

    page.click("a[href='#gaps']")
    page.locator("#gap-table form", has_text="Office Supplies").locator("button").click()
    page.wait_for_load_state()
    assert CategoryMapping.objects.get(connection=conn, category_code="OFF").account == "a3"
    assert page.locator("text=Nothing is missing").is_visible()

    page.goto(f"{live_server.url}/admin/mappings/categorymapping/{travel.pk}/change/")
    assert page.locator("text=Suggested accounts").first.is_visible()
    page.screenshot(path=os.path.join(artifacts_dir, "category-mapping-form.png"), full_page=True)
