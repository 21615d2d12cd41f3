"""Every string the main admin pages show in Arabic has its Arabic, whoever owns it: ours
(locale/), Django's, allauth's, and django-unfold's, which ships no Arabic (locale_packages/).

The pages are rendered in Arabic while every translation lookup is recorded; a lookup that came
back untranslated and whose words are on the page fails the test, naming the string and the page.
An Unfold upgrade that adds a button, or a template of ours that uses a package string nobody
translated, shows up here."""

import html
import re

import pytest
from django import db
from django.urls import reverse
from django.utils.translation.trans_real import DjangoTranslation

from exports.services.worker import records_work_due
from mappings.models import HoldRule
from tests.exports.conftest import _fake_vendor_registered, approve, conn, expense, org, vendor  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def books(org, conn, vendor):  # noqa: F811
    HoldRule.objects.create(connection=conn, name="Receipt needed", missing_receipt=True)
    approve(org, expense("exp_sar", amount="1234567.50"), rid="rpt_sar")
    approve(org, expense("exp_r", amount="80.00", receipts=[], description_ar="مكافأة سائق - 2026-01-03"),
            rid="rpt_r", employee=("emp_2", "خالد"))
    records_work_due(limit=50)


def _main_pages(org, conn):  # noqa: F811
    from connectors.models import Connection
    from exports.models import ExportRecord, ReviewItem

    item, record = ReviewItem.objects.first(), ExportRecord.objects.first()
    # The guided setup is for the registry's systems (the fake vendor of the tests is not one).
    wafeq = Connection.objects.create(organization=org, system="wafeq", name="Wafeq books", active=False,
                                      base_url="https://api.wafeq.com/v1", auth_method="api_key")
    month = f"/admin/exports/monthclose/month/{org.pk}/{record.document_date:%Y-%m}/"
    return ["/admin/", "/admin/connectors/connection/", "/admin/connectors/connection/add/",
            "/admin/connectors/connection/add/?system=wafeq&auth=api_key",
            f"/admin/connectors/connection/{wafeq.pk}/setup/", f"/admin/connectors/connection/{conn.pk}/change/",
            "/admin/exports/exportrecord/", f"/admin/exports/exportrecord/{record.pk}/change/",
            "/admin/exports/reviewitem/", f"/admin/exports/reviewitem/{item.pk}/change/",
            "/admin/mappings/mappingset/", f"/admin/mappings/mappingset/{conn.pk}/change/",
            "/admin/mappings/holdrule/", "/admin/exports/monthclose/months/",
            *([month] if db.connection.vendor == "postgresql" else []),   # the month page is PostgreSQL's
            "/admin/exports/reconciliation/", "/admin/exports/syncrun/", "/admin/connectors/calllog/",
            "/admin/notify/notification/", "/notifications/preferences/", "/accounts/email/",
            "/accounts/password/change/"]


def _text(page: str) -> str:
    """What a reader sees: text and the titles/placeholders/labels, without scripts and styles."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    attributes = " ".join(re.findall(r'(?:title|placeholder|aria-label)="([^"]*)"', page))
    return html.unescape(re.sub(r"<[^>]+>", " ", page) + " " + attributes)


def _shown(msgid: str, text: str) -> bool:
    words = msgid.split("\x04")[-1].strip()
    if not re.search(r"[A-Za-z]{2}", words) or re.search(r"%\(|%s|\{", words):
        return False          # no words, or a template whose filled-in form is not the msgid
    return re.search(r"(?<![\w-])" + re.escape(words) + r"(?![\w-])", text) is not None


@pytest.fixture
def lookups(monkeypatch):
    """Every msgid looked up while Arabic is active that no catalogue has (a catalogue may keep a word
    as it is: "Expensico", "OAuth 2.0")."""
    untranslated: set[str] = set()
    gettext, ngettext = DjangoTranslation.gettext, DjangoTranslation.ngettext

    def recording_gettext(self, message):
        result = gettext(self, message)
        if self.language() == "ar" and result == message and message not in self._catalog:
            untranslated.add(message)
        return result

    def recording_ngettext(self, singular, plural, n):
        result = ngettext(self, singular, plural, n)
        if self.language() == "ar" and result in (singular, plural) and (singular, 0) not in self._catalog:
            untranslated.add(result)
        return result

    monkeypatch.setattr(DjangoTranslation, "gettext", recording_gettext)
    monkeypatch.setattr(DjangoTranslation, "ngettext", recording_ngettext)
    return untranslated


def test_every_string_shown_on_the_main_pages_in_arabic_has_its_arabic(admin_client, books, org, conn,  # noqa: F811
                                                                       lookups):
    admin_client.post(reverse("set_language"), {"language": "ar", "next": "/admin/"})
    missing = {}
    for url in _main_pages(org, conn):
        lookups.clear()
        response = admin_client.get(url)
        assert response.status_code == 200, url
        text = _text(response.content.decode())
        shown = sorted(m.split("\x04")[-1] for m in lookups if _shown(m, text))
        if shown:
            missing[url] = shown
    assert missing == {}, ("no Arabic for these strings shown in Arabic (ours: locale/ar, run make messages; "
                           "a package's: add it to locale_packages/ar/LC_MESSAGES/django.po and compile)")


def test_unfold_has_no_arabic_of_its_own_so_ours_is_used():
    """If a django-unfold release ships Arabic, locale_packages may overrule better words: look."""
    from pathlib import Path

    import unfold

    assert not (Path(unfold.__file__).parent / "locale" / "ar").exists()
