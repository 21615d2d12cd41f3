"""A real browser (Debian's Chromium via Playwright) logs in to the admin."""

import os

import pytest

from expensico_sync.core.services import admin_ensure

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_admin_login_and_index_screenshot(page, live_server, artifacts_dir):
    admin_ensure(username="admin", email="admin@example.com", password="e2e-Password-42")
    page.goto(f"{live_server.url}/admin/")
    assert "/accounts/login/" in page.url
    page.fill("input[name=login]", "admin")
    page.fill("input[name=password]", "e2e-Password-42")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    assert page.locator("text=expensico-sync").first.is_visible()
    assert page.locator("nav >> text=Organisations").first.is_visible()
    # Unfold's stylesheet loaded (an unstyled page has no computed sidebar width).
    assert page.evaluate("getComputedStyle(document.body).fontFamily").lower().startswith("inter")
    page.set_viewport_size({"width": 1440, "height": 900})
    page.screenshot(path=os.path.join(artifacts_dir, "admin-index.png"), full_page=True)
