"""In a real browser: a state-changing admin button asks first and acts only on its POST; the
action's URL opened directly shows the same question as a full admin page. Screenshots go to
test-artifacts/."""

import os

import pytest

from expensico_sync.core.models import Organization
from tests.conftest import admin_login
from tests.core.factories import make_org

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_rotating_the_webhook_secret_asks_then_posts(page, live_server, artifacts_dir):
    org = make_org("confirm-e2e")
    before = org.webhook_secret
    admin_login(page, live_server)
    change = f"{live_server.url}/admin/core/organization/{org.pk}/change/"

    page.goto(f"{live_server.url}/admin/core/organization/{org.pk}/rotate_webhook_secret/")
    assert page.locator("text=A new webhook secret is generated").first.is_visible()
    assert page.locator("form button[type=submit]", has_text="Rotate webhook secret").first.is_visible()
    page.screenshot(path=os.path.join(artifacts_dir, "admin-confirm-page.png"), full_page=True)
    page.locator("a", has_text="Cancel").first.click()
    page.wait_for_url(change)
    assert Organization.objects.get(pk=org.pk).webhook_secret == before

    page.locator("a", has_text="Rotate webhook secret").first.click()
    page.locator("#dialog").wait_for()
    page.screenshot(path=os.path.join(artifacts_dir, "admin-confirm-dialog.png"), full_page=True)
    with page.expect_navigation(url=change):  # the POST answers htmx with HX-Redirect to the change page
        page.locator("#dialog button[type=submit]").click()
    after = Organization.objects.get(pk=org.pk).webhook_secret
    assert after != before
    assert page.locator(f"text={after}").first.is_visible()  # shown once, in the message
