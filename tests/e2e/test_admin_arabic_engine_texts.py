"""In a real browser, in Arabic: the group page's two-box permission picker (Django's JavaScript
catalogue) and an export record waiting for a reason the engine wrote (rate limited), with its
status history. Screenshots: test-artifacts/admin-arabic-group-picker.png and
admin-arabic-record-waiting.png."""

import os

import pytest
from django.contrib.auth.models import Group, Permission
from django.utils import translation
from playwright.sync_api import expect

from exports.models import ExportRecord
from exports.services.worker import records_work_due
from exports.stored_words import wait_shown
from tests.e2e.test_admin_arabic import _to_arabic
from tests.exports.conftest import _fake_vendor_registered, approve, conn, expense, org, vendor  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_the_group_picker_and_a_waiting_record_in_arabic(page, live_server, artifacts_dir, org, conn, vendor):  # noqa: F811
    group = Group.objects.create(name="Finance")
    group.permissions.add(Permission.objects.get(codename="add_exportrecord"))
    vendor.faults = ["rate_limited"]
    approve(org, expense("exp_rate"), rid="rpt_rate")
    records_work_due()
    record = ExportRecord.objects.get(source_id="exp_rate")
    with translation.override("ar"):
        waiting = wait_shown(record.wait_reason)
    _to_arabic(page, live_server)

    page.goto(f"{live_server.url}/admin/auth/group/{group.pk}/change/")
    picker = page.locator(".selector").first
    expect(picker).to_contain_text("اختيار كل الصلاحيات")
    expect(picker).to_contain_text("إزالة كل الصلاحيات")
    for english in ("Choose all", "Remove all", "by selecting them", "click to clear"):
        expect(picker).not_to_contain_text(english)
    page.screenshot(path=os.path.join(artifacts_dir, "admin-arabic-group-picker.png"), full_page=True)

    page.goto(f"{live_server.url}/admin/exports/exportrecord/{record.pk}/change/")
    expect(page.locator('[data-test="wait-reason"]')).to_have_text(waiting)
    main = page.locator("#main, main").first
    expect(main).not_to_contain_text("rate limited")
    page.screenshot(path=os.path.join(artifacts_dir, "admin-arabic-record-waiting.png"), full_page=True)
