"""Screens that showed English to a member reading Arabic (issue 21 item 7), each rendered in Arabic
with data that exercises its strings: the setup step's gap kinds, the mapping set's gaps,
suggestions and history, the call log's error classes, permission names on the group and user
pages, and django-q2's schedule form.

Two checks per page: every translation lookup shown on it has Arabic (as in
test_package_translations), and the English a page used to build without any lookup (an f-string,
a code, a row Django stored in English) is gone, its Arabic there instead."""

import pprint

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext, pgettext

from connectors.models import CallLog, Connection
from expensico_sync.core.models import Organization
from exports.services.worker import records_work_due
from mappings.history import mapping_revert
from mappings.models import CategoryMapping, RemoteCatalogItem, TaxMapping
from mappings.services import category_mapping_apply_suggestion
from tests.core.test_package_translations import _shown, _text, lookups  # noqa: F401
from tests.exports.conftest import _fake_vendor_registered, approve, conn, expense, org, vendor  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def screens(org, conn, vendor, admin_user):  # noqa: F811
    """A mapping set with a gap (TRAVEL, booked twice before its mapping was removed), suggestions
    with every kind of reason, a history of every kind of change; a Wafeq connection in setup; a
    failed call; a group."""
    for remote_id, name, code in (("acc-travel", "Transport", "6100"), ("acc-trips", "Travel", "6150")):
        RemoteCatalogItem.objects.create(connection=conn, kind="accounts", remote_id=remote_id, name=name, code=code,
                                         classification="EXPENSE", refreshed_at=timezone.now())
    approve(org, expense("exp_1"), expense("exp_2"))
    exported = records_work_due()
    CategoryMapping.objects.get(connection=conn, category_code="TRAVEL").delete()   # by nobody: "system"
    approve(org, expense("exp_3"), rid="rpt_2")                                      # now waits: a gap
    other = Organization.objects.create(slug="other", name="Other", base_currency="SAR", mode="live")
    elsewhere = Connection.objects.create(organization=other, system="fake", name="Other books",
                                          base_url="http://fake.invalid/")
    for code in ("TRV", "TRIP", "TRAVEL"):   # three similar categories mapped to "Transport" elsewhere
        CategoryMapping.objects.create(connection=elsewhere, category_code=code, category_name="Travel",
                                       account="x", account_name="Transport")
    meals = category_mapping_apply_suggestion(connection=conn, category_code="MEALS", category_name="Meals",
                                              account="acc-meals-2", account_name="Meals and drinks", user=admin_user)
    TaxMapping.objects.create(connection=conn, tax_code="VAT15", tax_rate="15", treatment="inclusive",
                              separate_line=True, tax_account="acc-vat")
    mapping_revert(kind="category", connection=conn, history_id=meals.history.earliest().history_id)
    wafeq = Connection.objects.create(organization=org, system="wafeq", name="Wafeq books", active=False,
                                      base_url="https://api.wafeq.com/v1", auth_method="api_key")
    call = CallLog.objects.create(connection=conn, method="POST", path="/expenses", error_class="PeriodClosed",
                                  error_detail="period locked")
    group = Group.objects.create(name="Finance")
    group.permissions.add(Permission.objects.get(codename="add_exportrecord"))
    return {"set": conn, "wafeq": wafeq, "call": call, "group": group, "user": admin_user, "exported": exported}


def _in_arabic(fn, *args):
    with translation.override("ar"):
        return fn(*args)


def _arabic(*msgid) -> str:
    return _in_arabic(gettext, *msgid)


def _expectations(screens):
    """Per page: (English it must not show, Arabic it must show)."""
    category = _in_arabic(pgettext, "mapping gap", "category")
    setting = _in_arabic(pgettext, "mapping gap", "setting")
    claims = _in_arabic(pgettext, "mapping gap", "Employee Claims")
    used = _in_arabic(ngettext, "used for %(count)s similar expense", "used for %(count)s similar expenses", 2)
    elsewhere = _in_arabic(ngettext, "chosen for a similar category %(count)s time elsewhere",
                           "chosen for a similar category %(count)s times elsewhere", 3)
    period_closed = _arabic("period closed at the vendor")
    add_record = _arabic("Can add %(model)s") % {"model": _in_arabic(gettext, "export record")}
    return {
        f"/admin/connectors/connection/{screens['wafeq'].pk}/setup/": (
            ["category TRAVEL", "setting Employee Claims"], [f"{category} TRAVEL", f"{setting} {claims}"]),
        f"/admin/mappings/mappingset/{screens['set'].pk}/change/": (
            ["used for 2 similar expenses", "chosen for a similar category 3 times elsewhere", "name match",
             "Suggestion applied by", "Reverted to version", "system", "created", "changed", "deleted",
             "category mapping", "tax_code", "inclusive", "True"],
            [category, used % {"count": 2}, elsewhere % {"count": 3}, _arabic("name match"),
             _arabic("Suggestion applied by %(user)s") % {"user": screens["user"]}, _arabic("system"),
             _in_arabic(pgettext, "mapping history", "created"), _in_arabic(pgettext, "mapping history", "deleted"),
             _arabic("tax code"), _arabic("Yes")]),
        "/admin/connectors/calllog/": (["PeriodClosed"], [period_closed]),
        "/admin/connectors/calllog/?error_class=PeriodClosed": (["PeriodClosed"], [period_closed]),
        f"/admin/connectors/calllog/{screens['call'].pk}/change/": (["PeriodClosed"], [period_closed]),
        f"/admin/auth/group/{screens['group'].pk}/change/": (["Can add export record", "Can view", "historical"], [add_record]),
        f"/admin/auth/user/{screens['user'].pk}/change/": (["Can add export record", "Can view", "historical"], [add_record]),
        "/admin/django_q/schedule/add/": (["Dotted import path", "How often this task"], []),
    }


def test_the_screens_that_showed_english_show_arabic(admin_client, screens, lookups):  # noqa: F811
    assert screens["exported"] == {"exported": 2}   # the history "used for 2 similar expenses" counts
    admin_client.post(reverse("set_language"), {"language": "ar", "next": "/admin/"})
    problems = {}
    for url, (english, arabic) in _expectations(screens).items():
        lookups.clear()
        response = admin_client.get(url)
        assert response.status_code == 200, url
        text = _text(response.content.decode())
        untranslated = sorted(m.split("\x04")[-1] for m in lookups if _shown(m, text))
        still_english = [words for words in english if _shown(words, text)]
        no_arabic = [words for words in arabic if words not in text]
        if untranslated or still_english or no_arabic:
            problems[url] = {"no Arabic for": untranslated, "English shown": still_english, "Arabic missing": no_arabic}
    assert problems == {}, pprint.pformat(problems, width=120)
