"""In a real browser, in Arabic, the screens that showed English (issue 21 item 7): the setup step's
gap kinds, the mapping set's gaps with their suggestions and its history, the call log, the group
page's permissions and django-q2's schedule form. Screenshots go to
test-artifacts/admin-arabic-screen-*.png."""

import os

import pytest
from django.utils import translation
from django.utils.translation import gettext, pgettext
from playwright.sync_api import expect

from tests.core.test_arabic_screens import screens  # noqa: F401
from tests.e2e.test_admin_arabic import _to_arabic
from tests.exports.conftest import _fake_vendor_registered, conn, org, vendor  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _shot(page, artifacts_dir, name):
    page.screenshot(path=os.path.join(artifacts_dir, f"admin-arabic-screen-{name}.png"), full_page=True)


def test_the_screens_that_showed_english_in_arabic(page, live_server, artifacts_dir, screens):  # noqa: F811
    with translation.override("ar"):
        category = pgettext("mapping gap", "category")
        name_match = gettext("name match")
        applied = gettext("Suggestion applied by %(user)s") % {"user": "admin"}
        period_closed = gettext("period closed at the vendor")
        can_add = gettext("Can add %(model)s") % {"model": gettext("export record")}
        how_often = gettext("How often this task should be enqueued.")
    _to_arabic(page, live_server)

    page.goto(f"{live_server.url}/admin/connectors/connection/{screens['wafeq'].pk}/setup/")
    expect(page.get_by_text(f"{category} TRAVEL").first).to_be_visible()
    _shot(page, artifacts_dir, "setup")

    mapping_set = f"{live_server.url}/admin/mappings/mappingset/{screens['set'].pk}/change/"
    page.goto(mapping_set)
    expect(page.locator("#gap-table")).to_contain_text(category)
    expect(page.locator("#gap-table")).to_contain_text(name_match)
    expect(page.locator("#gap-table")).not_to_contain_text("name match")
    _shot(page, artifacts_dir, "mapping-set-gaps")
    page.locator('a[href="#history"]').click()
    expect(page.locator("#history-table")).to_contain_text(applied)
    expect(page.locator("#history-table")).not_to_contain_text("system")
    _shot(page, artifacts_dir, "mapping-set-history")

    page.goto(f"{live_server.url}/admin/connectors/calllog/")
    expect(page.locator("#result_list")).to_contain_text(period_closed)
    expect(page.locator("#result_list")).not_to_contain_text("PeriodClosed")
    _shot(page, artifacts_dir, "call-log")
    page.goto(f"{live_server.url}/admin/connectors/calllog/{screens['call'].pk}/change/")
    expect(page.locator("main, #main").first).to_contain_text(period_closed)
    _shot(page, artifacts_dir, "call")

    page.goto(f"{live_server.url}/admin/auth/group/{screens['group'].pk}/change/")
    expect(page.locator("#id_permissions_to")).to_contain_text(can_add)
    expect(page.locator("#id_permissions_from")).not_to_contain_text("Can view")
    _shot(page, artifacts_dir, "group")

    page.goto(f"{live_server.url}/admin/django_q/schedule/add/")
    expect(page.get_by_text(how_often)).to_be_visible()
    _shot(page, artifacts_dir, "schedule-add")
