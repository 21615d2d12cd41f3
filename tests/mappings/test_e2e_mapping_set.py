"""The mapping-set screen in a real browser: tabs switch, gaps and history show, a suggestion maps
after a confirmation with the count and amount it re-books, an account is picked from the
searchable catalog, and the set is reverted to a version picked from a list."""

import os
from datetime import UTC, datetime

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect

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
    assert gaps.is_visible() and "155.00 SAR" in gaps.inner_text() and "name match" in gaps.inner_text()
    page.screenshot(path=os.path.join(artifacts_dir, "mapping-set-gaps.png"), full_page=True)

    page.click("a[href='#history']")
    expect(page.locator("#history-table")).to_be_visible()      # waits for the tab to switch
    expect(gaps).to_be_hidden()
    assert "Travel (air)" in page.locator("#history-table").inner_text()
    page.screenshot(path=os.path.join(artifacts_dir, "mapping-set-history.png"), full_page=True)

    page.click("a[href='#gaps']")
    page.locator("#gap-table form", has_text="Office Supplies").locator("button").click()
    page.wait_for_load_state()
    # The one-click fix asks first: how many expenses it re-books, and how much money.
    assert page.locator("text=Expenses re-booked").is_visible() and page.locator("text=155.00 SAR").is_visible()
    assert not CategoryMapping.objects.filter(connection=conn, category_code="OFF").exists()
    page.screenshot(path=os.path.join(artifacts_dir, "mapping-gap-confirm.png"), full_page=True)
    page.locator("form button[type=submit]", has_text="Map and re-book").click()
    page.wait_for_load_state()
    assert CategoryMapping.objects.get(connection=conn, category_code="OFF").account == "a3"
    assert page.locator("text=Nothing is missing").is_visible()

    # Revert the set to a version picked from the list (the date-time picker fills in).
    page.click("a[href='#history']")
    oldest = page.locator("#revert-version option", has_text="2026-11-02 09:00").get_attribute("value")
    page.select_option("#revert-version", oldest)  # just after Travel was created, before "(air)"
    assert page.locator("#revert-at").input_value().startswith("2026-11-02T09:00")
    page.screenshot(path=os.path.join(artifacts_dir, "mapping-set-revert-picker.png"), full_page=True)
    page.locator("form button[type=submit]", has_text="Revert set").click()
    page.wait_for_load_state()
    travel.refresh_from_db()
    assert travel.account_name == "Travel"

    # An account is picked from the vendor's catalog by searching its name, never typed as an id.
    page.goto(f"{live_server.url}/admin/mappings/categorymapping/{travel.pk}/change/")
    assert page.locator("text=Suggested accounts").first.is_visible()
    page.locator("#id_account + .select2 .select2-selection").click()
    page.locator(".select2-search__field").fill("meals")
    page.screenshot(path=os.path.join(artifacts_dir, "category-mapping-catalog-picker.png"), full_page=True)
    page.locator(".select2-results__option", has_text="6200 · Meals & Entertainment · EXPENSE").click()
    assert page.locator("#id_account_name").input_value() == "Meals & Entertainment"
    page.screenshot(path=os.path.join(artifacts_dir, "category-mapping-form.png"), full_page=True)
    page.locator("button[name=_save], input[name=_save]").first.click()
    page.wait_for_load_state()
    travel.refresh_from_db()
    assert (travel.account, travel.account_name) == ("a2", "Meals & Entertainment")
