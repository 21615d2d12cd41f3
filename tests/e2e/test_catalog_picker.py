"""In a real browser: a category is mapped by picking the account from the vendor's catalog (search
by name or code, the result showing code, name and type), never by typing its id; the pick fills the
account's name beside it. Screenshots go to test-artifacts/catalog-picker-*.png."""

import os

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from mappings.models import CategoryMapping, RemoteCatalogItem
from tests.conftest import admin_login
from tests.core.factories import make_org
from tests.mappings.factories import make_connection

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def books():
    conn = make_connection(make_org("picker-e2e"), name="Wafeq books")
    now = timezone.now()
    for remote_id, code, name in (("acc-6100", "6100", "Travel"), ("acc-6200", "6200", "Meals & Entertainment"),
                                  ("acc-7000", "7000", "Staff meals")):
        RemoteCatalogItem.objects.create(connection=conn, kind="accounts", remote_id=remote_id, code=code, name=name,
                                         classification="EXPENSE", refreshed_at=now)
    return conn


def _shot(page, artifacts_dir, name):
    page.screenshot(path=os.path.join(artifacts_dir, f"catalog-picker-{name}.png"), full_page=True)


def test_a_category_is_mapped_from_the_catalog_picker(page, live_server, artifacts_dir, books):
    admin_login(page, live_server)
    page.goto(f"{live_server.url}/admin/mappings/categorymapping/add/?connection={books.pk}&category_code=MEALS")
    assert page.locator("input[name=account]").count() == 0          # no box to type an id into
    page.locator("#id_account + .select2 .select2-selection").click()
    page.locator(".select2-container--open .select2-search__field").fill("meals")
    # Searched on the server as the person types: prefix matches first, each with its code, name and type
    # (expect waits out the list shown before the search answers).
    expect(page.locator(".select2-results__option")).to_have_text(
        ["6200 · Meals & Entertainment · EXPENSE", "7000 · Staff meals · EXPENSE"])
    _shot(page, artifacts_dir, "1-search")
    page.locator(".select2-results__option", has_text="Meals & Entertainment").click()
    assert page.locator("#id_account_name").input_value() == "Meals & Entertainment"
    page.fill("input[name=category_name]", "Meals")
    _shot(page, artifacts_dir, "2-picked")
    page.locator("button[name=_save]").click()
    page.wait_for_url(f"{live_server.url}/admin/mappings/categorymapping/**")
    mapping = CategoryMapping.objects.get(connection=books, category_code="MEALS")
    assert (mapping.account, mapping.account_name) == ("acc-6200", "Meals & Entertainment")
    _shot(page, artifacts_dir, "3-saved")
