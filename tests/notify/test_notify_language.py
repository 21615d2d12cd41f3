"""E-mails in the recipient's language: a member who chose Arabic (in the admin's language switcher
or on their notification preferences) gets the subject and the body in Arabic, right to left; the
others, in the same notification, keep English."""

from datetime import date

import pytest
from django.core import mail
from django.urls import reverse

from connectors.breaker import BREAKER_THRESHOLD, breaker_record_failure
from expensico_sync.core.roles import Role
from expensico_sync.notify import sender
from expensico_sync.notify.digest import send_digest
from expensico_sync.notify.models import RecipientLanguage
from expensico_sync.notify.services import language_of, language_remember
from exports import alerts
from exports.reports.models import ReportSchedule
from exports.reports.services import run_due
from tests.core.factories import make_member, make_org
from tests.exports.factories import connection_for


@pytest.fixture
def org(db, settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MEDIA_ROOT = str(tmp_path)
    return make_org("language")


@pytest.fixture
def people(org):
    arabic, english = make_member(org, Role.OWNER), make_member(org, Role.FINANCE_ADMIN)
    language_remember(arabic, "ar")
    return arabic, english


def _sent() -> dict[str, mail.EmailMultiAlternatives]:
    sender.send_pending()
    return {message.to[0]: message for message in mail.outbox}


def _html(message) -> str:
    return message.alternatives[0][0]


def test_an_alert_reaches_each_member_in_their_language(org, people):
    arabic, english = people
    connection = connection_for(org)
    for _ in range(BREAKER_THRESHOLD):
        breaker_record_failure(connection)
    assert alerts.scan() == 1
    sent = _sent()
    ar, en = sent[arabic.email], sent[english.email]
    assert ar.subject == f"{connection.name} ({org.name}) متوقف بعد إخفاقات متكرّرة"
    assert "أخفق المورّد" in ar.body and "افتح في لوحة الإدارة" in ar.body and "إلغاء الاشتراك" in ar.body
    assert "The vendor failed" not in ar.body and "Open in the admin" not in ar.body
    assert '<html lang="ar" dir="rtl"' in _html(ar) and "افتح في لوحة الإدارة" in _html(ar)
    assert en.subject == f"{connection.name} ({org.name}) is paused after repeated failures"
    assert "The vendor failed" in en.body and '<html lang="en-gb" dir="ltr"' in _html(en)


def test_the_digest_is_written_in_arabic_sections_and_all(org, people):
    arabic, english = people
    send_digest(org)
    sent = _sent()
    ar = sent[arabic.email]
    assert ar.subject == f"{org.name}: ملخصك اليومي"
    for words in ("التصدير", "أقدم عناصر المراجعة المفتوحة", "ثغرات الربط", "إقفال نهاية الشهر", "منذ"):
        assert words in ar.body, words
    for english_words in ("Exports", "Oldest open review items", "Mapping gaps", "Month-end close", "Since "):
        assert english_words not in ar.body and english_words not in _html(ar), english_words
    assert "Oldest open review items" in sent[english.email].body


def test_a_scheduled_report_is_announced_in_arabic(org, people):
    arabic, _english = people
    ReportSchedule.objects.create(organization=org, report="export_records", format="csv", day=1)
    run_due(date(2026, 12, 1))
    ar = _sent()[arabic.email]
    assert "جاهز" in ar.subject and "is ready" not in ar.subject
    assert "الرابط صالح" in ar.body and "The link works" not in ar.body


def test_the_language_switcher_and_the_preferences_page_set_the_language(client, org, people):
    _arabic, english = people
    assert language_of(english) == "en-gb"
    client.force_login(english)
    client.post(reverse("set_language"), {"language": "ar", "next": "/admin/"})
    assert language_of(english) == "ar"
    page = client.get(reverse("notify-preferences")).content.decode()
    assert "لغة إشعاراتك" in page and "Your notifications" not in page
    assert client.post(reverse("notify-preferences"), {"language": "en-gb"}).status_code == 302
    assert RecipientLanguage.objects.get(user=english).language == "en-gb"
    response = client.post(reverse("notify-preferences"), {"language": "fr"})
    assert response.status_code == 400 and b"language" in response.content
