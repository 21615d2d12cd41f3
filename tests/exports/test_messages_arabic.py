"""Texts we write into review items, export records and reports (holds, gaps, closed periods,
pre-flight, our framing of the vendor's errors), and the coding rules' summaries, read in Arabic:
each screen rendered in Arabic with data that makes every kind, failing on our English framing on
the page and on any of our strings looked up without Arabic. The vendor's own words stay as the
vendor wrote them. Rows written before the message codes keep their stored text."""

import html
import re
from datetime import date

import pytest
from django.test import override_settings
from django.utils import translation
from django.utils.translation.trans_real import DjangoTranslation

from connectors.preflight import Finding
from exports.models import ExportRecord, ReviewItem
from exports.reports.models import GeneratedReport, ReportSchedule
from exports.reports.services import evidence_settle
from exports.services import preflight
from exports.services.worker import records_work_due
from mappings.models import CodingRule, HoldRule
from tests.exports.conftest import approve, expense

pytestmark = pytest.mark.django_db

R = ReviewItem.Reason
# Our English framing, as it was stored and shown before: none of it may be on an Arabic page.
ENGLISH = ["Held (missing receipt)", "Held by rule", "Missing mapping", "category TAXI", "Pre-flight",
           "the vendor would refuse this document", "nothing was sent", "the vendor's period is closed",
           "connection policy", "hold for review", "gave up after", "attempts:", "Possible duplicate of",
           "same content", "category is one of", "employees", "amount 100", "account Travel", "hold: ",
           "merchant contains", "the evidence pack it was waiting for was removed"]


@pytest.fixture
def held(org, conn, vendor, monkeypatch):
    """One review item of each kind our own words describe, each through the engine itself."""
    HoldRule.objects.create(connection=conn, name="Receipt needed", missing_receipt=True)
    HoldRule.objects.create(connection=conn, name="Big meals", amount_over=1000, categories=["MEALS"])
    approve(org, expense("exp_receipt", receipts=[]), rid="rpt_receipt")
    approve(org, expense("exp_big", amount="5000.00", category="MEALS"), rid="rpt_big")
    approve(org, expense("exp_gap", category="TAXI"), rid="rpt_gap")
    approve(org, expense("exp_first", merchant="Hilton", amount="700.00"), rid="rpt_first")
    records_work_due(limit=50)
    approve(org, expense("exp_again", merchant="Hilton", amount="700.00"), rid="rpt_again")
    vendor.locked_through = date(2026, 11, 30)
    approve(org, expense("exp_closed"), rid="rpt_closed")
    records_work_due(limit=50)
    vendor.locked_through = None
    with override_settings(EXPORTS_MAX_ATTEMPTS=1):
        vendor.faults = ["transient"]
        approve(org, expense("exp_flaky"), rid="rpt_flaky")
        records_work_due(limit=50)
    monkeypatch.setattr(preflight, "entry_check", lambda **kw: [Finding("currency", "SAR is not enabled in Fake",
                                                                        "enable SAR in Fake")])
    approve(org, expense("exp_pre"), rid="rpt_pre")
    records_work_due(limit=50)
    return {item.reason: item for item in ReviewItem.objects.filter(resolved_at__isnull=True)}


@pytest.fixture
def rule(conn):
    return CodingRule.objects.create(connection=conn, name="Taxis", merchant="Careem", merchant_match="contains",
                                     categories=["TRAVEL"], employees=["emp_1", "emp_2"], amount_min=100,
                                     amount_max=500, account="acc-travel", account_name="Travel", hold=True,
                                     hold_reason="check the trip")


@pytest.fixture
def failed_report(org):
    schedule = ReportSchedule.objects.create(organization=org, report="evidence_pack", format="csv")
    report = GeneratedReport.objects.create(schedule=schedule, organization=org, filename="evidence.zip",
                                            content_type="application/zip", status=GeneratedReport.Status.WAITING,
                                            expires_at="2027-01-01T00:00:00Z")
    return evidence_settle(report.pk)


@pytest.fixture
def lookups(monkeypatch):
    """Every msgid looked up while Arabic is active that no catalogue has."""
    untranslated: set[str] = set()
    gettext, ngettext, pgettext = DjangoTranslation.gettext, DjangoTranslation.ngettext, DjangoTranslation.pgettext

    def recording_gettext(self, message):
        result = gettext(self, message)
        if self.language() == "ar" and result == message and message not in self._catalog:
            untranslated.add(message)
        return result

    def recording_ngettext(self, singular, plural, n):
        result = ngettext(self, singular, plural, n)
        if self.language() == "ar" and result in (singular, plural) and (singular, 0) not in self._catalog:
            untranslated.add(singular)
        return result

    def recording_pgettext(self, context, message):
        result = pgettext(self, context, message)
        if self.language() == "ar" and result == message:
            untranslated.add(message)
        return result

    monkeypatch.setattr(DjangoTranslation, "gettext", recording_gettext)
    monkeypatch.setattr(DjangoTranslation, "ngettext", recording_ngettext)
    monkeypatch.setattr(DjangoTranslation, "pgettext", recording_pgettext, raising=False)
    return untranslated


def _text(page: str) -> str:
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    attributes = " ".join(re.findall(r'(?:title|placeholder|aria-label)="([^"]*)"', page))
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page) + " " + attributes).split())


def _arabic(client, url, lookups) -> tuple[str, set[str]]:
    lookups.clear()
    response = client.get(url)
    assert response.status_code == 200, url
    return _text(response.content.decode()), {m for m in lookups if re.search(r"[A-Za-z]{3}", m)}


def _ours(msgids: set[str]) -> set[str]:
    from exports import admin_coding, messages

    known = {*messages.TEXTS.values(), *messages.WORDS.values(), *map(str, admin_coding.IN_LIST.values()),
             "merchant %(match)s %(merchant)s", "%(count)s employee", "amount %(low)s–%(high)s", " and ",
             "account %(account)s", "tax %(code)s", "contact %(contact)s", "hold: %(reason)s", "Last error",
             "Error", "skip (never export)"}
    return msgids & known


def test_every_hold_and_error_we_wrote_reads_in_arabic(admin_client, held, rule, failed_report, lookups):
    assert {R.MISSING_RECEIPT, R.HOLD_RULE, R.MAPPING_GAP, R.POSSIBLE_DUPLICATE, R.PERIOD_CLOSED,
            R.RETRIES_EXHAUSTED, R.PREFLIGHT_FAILED} <= set(held)
    admin_client.post("/i18n/setlang/", {"language": "ar", "next": "/admin/"})
    pages = ["/admin/exports/reviewitem/", "/admin/exports/exportrecord/", "/admin/mappings/codingrule/",
             "/admin/exports/generatedreport/", f"/admin/exports/generatedreport/{failed_report.pk}/change/"]
    pages += [f"/admin/exports/reviewitem/{item.pk}/change/" for item in held.values()]
    pages += [f"/admin/exports/exportrecord/{item.record_id}/change/" for item in held.values()]
    seen = {url: _arabic(admin_client, url, lookups) for url in pages}
    english = {url: [words for words in ENGLISH if words in text] for url, (text, _) in seen.items()}
    assert {url: found for url, found in english.items() if found} == {}
    untranslated = {url: sorted(_ours(missing)) for url, (_, missing) in seen.items()}
    assert {url: found for url, found in untranslated.items() if found} == {}
    # The vendor's own words stay as the vendor wrote them, inside our (Arabic) framing.
    text, _missing = _arabic(admin_client, f"/admin/exports/reviewitem/{held[R.RETRIES_EXHAUSTED].pk}/change/",
                             lookups)
    assert "503 from fake" in text and "توقفنا بعد" in text
    text, _missing = _arabic(admin_client, f"/admin/exports/reviewitem/{held[R.PERIOD_CLOSED].pk}/change/", lookups)
    assert "period closed through 2026-11-30" in text and "الفترة مقفلة في النظام المحاسبي" in text


def test_the_english_text_is_stored_beside_its_code_and_the_api_sends_both(held):
    item = held[R.MISSING_RECEIPT]
    assert item.detail == "Held (missing receipt): Receipt needed"
    assert item.detail_message == {"code": "held_missing_receipt", "params": {"rules": "Receipt needed"}}
    record = ExportRecord.objects.get(pk=held[R.PREFLIGHT_FAILED].record_id)
    assert record.last_error.startswith("Pre-flight: the vendor would refuse this document")
    assert record.last_error_message["code"] == "preflight"
    from exports.serializers import ExportRecordSerializer, ReviewItemSerializer

    assert ReviewItemSerializer(item).data["detail_code"] == "held_missing_receipt"
    assert ExportRecordSerializer(record).data["last_error_code"] == "preflight"


def test_the_vendors_own_error_has_no_code_and_stays_as_written(org, conn, vendor):
    vendor.faults = ["permanent"]
    approve(org, expense("exp_refused"), rid="rpt_refused")
    records_work_due(limit=50)
    item = ReviewItem.objects.get(reason=R.VALIDATION)
    assert item.detail == "account is archived" and item.detail_message == {}
    with translation.override("ar"):
        from exports.messages import shown

        assert shown(item.detail, item.detail_message) == "account is archived"


def test_a_row_written_before_keeps_its_stored_text(held):
    from exports.messages import shown

    item = held[R.HOLD_RULE]
    ReviewItem.objects.filter(pk=item.pk).update(detail="Held by rule: Big meals (old)", detail_message={})
    item.refresh_from_db()
    with translation.override("ar"):
        assert shown(item.detail, item.detail_message) == "Held by rule: Big meals (old)"
        assert shown("x", {"code": "no_longer_known", "params": {}}) == "x"


def test_dates_inside_a_message_follow_the_language():
    from exports.messages import said, shown

    spike = said("weekend_spend", amount="80.00 SAR", category="Meals", merchant="Albaik",
                 weekday={"weekday": "2026-11-06"}, date={"day": "2026-11-06"})
    assert spike == "80.00 SAR of Meals at Albaik on a Friday (weekend), 06 Nov 2026"
    with translation.override("ar"):
        assert shown(spike, spike.stored()) == "80.00 SAR من Meals لدى Albaik يوم الجمعة (عطلة نهاية الأسبوع)، 6 نوفمبر 2026"
