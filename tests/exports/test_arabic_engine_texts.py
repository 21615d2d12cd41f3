"""The last English the export engine wrote into the Arabic admin (issue 21 item 7, part 2): why a
record waits, the "why" of each status change (review decisions among them), what an attempt says
of itself, the flash message of a refused action, the month-end checklist's detail lines and the
month's history, Django's JavaScript catalogue (the two-box group/permission picker) and django-q2's
app name. Each is rendered in Arabic through the engine's own paths; the English stays what the API
and the database keep; rows written before keep their stored text."""

import json
import re
from datetime import date, timedelta
from pathlib import Path

import django
import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone, translation

from exports.close.registry import checklist_row_words
from exports.close.services import checklist_compute
from exports.errors import IllegalTransition
from exports.messages import said
from exports.models import ExportAttempt, ExportRecord, ReviewItem
from exports.refusals import refusal_shown
from exports.services import review as review_services
from exports.services.actions import record_cancel
from exports.services.worker import records_work_due
from exports.status_log import StatusChange
from exports.stored_words import attempt_shown, wait_shown, words_shown
from tests.conftest import admin_confirm
from tests.core.test_package_translations import _text
from tests.exports.conftest import approve, expense

pytestmark = pytest.mark.django_db
R = ReviewItem.Reason


def _arabic(client, url) -> str:
    response = client.get(url, follow=True)
    assert response.status_code == 200, url
    return " ".join(_text(response.content.decode()).split())


def _in_arabic(fn, *args):
    with translation.override("ar"):
        return fn(*args)


@pytest.fixture
def arabic_client(admin_client):
    admin_client.post(reverse("set_language"), {"language": "ar", "next": "/admin/"})
    return admin_client


def test_why_a_record_waits_reads_in_arabic(arabic_client, org, conn, vendor):
    vendor.faults = ["rate_limited"]
    approve(org, expense("exp_rate"), rid="rpt_rate")
    records_work_due()
    record = ExportRecord.objects.get(source_id="exp_rate")
    assert record.wait_reason == "rate limited"            # stored (and sent by the API) in English
    page = _arabic(arabic_client, reverse("admin:exports_exportrecord_change", args=[record.pk]))
    arabic = _in_arabic(wait_shown, "rate limited")
    assert arabic != "rate limited" and arabic in page
    assert "rate limited" not in page                      # field, timeline ("now") and status history
    for reason in ("organisation paused", "dry run: previewed, not sent", "connection breaker open",
                   "pilot: outside the chosen employees and categories", "connection paused",
                   "connection not activated yet", "waiting for the original", "original moving"):
        assert _in_arabic(wait_shown, reason) != reason, reason
    assert _in_arabic(wait_shown, "a reason of some other version") == "a reason of some other version"


def test_review_decisions_and_actions_say_why_in_arabic(arabic_client, org, conn, vendor, admin_user):
    vendor.faults = ["permanent", "permanent"]
    approve(org, expense("exp_booked"), expense("exp_2"))
    records_work_due()
    booked = ReviewItem.objects.get(record__source_id="exp_booked")
    review_services.review_item_resolve(item=booked, resolution="booked_manually", by=admin_user,
                                        note="entered by hand", external_reference="JV-7")
    skipped = ExportRecord.objects.get(source_id="exp_2")
    admin_confirm(arabic_client, reverse("admin:exports_exportrecord_cancel_record", args=[skipped.pk]))
    logged = StatusChange.objects.get(record__source_id="exp_booked", to_status="exported")
    assert logged.why == "review resolved: booked manually; entered by hand; booked as JV-7"   # English kept
    assert logged.why_message["code"] == "review_resolved_more"
    page = _arabic(arabic_client, reverse("admin:exports_exportrecord_change", args=[booked.record_id]))
    assert "review resolved" not in page and "booked manually" not in page and "booked as" not in page
    with translation.override("ar"):
        from exports.messages import shown

        assert shown(logged.why, logged.why_message) in page
        assert "entered by hand" in page and "JV-7" in page             # a person's words stay as written
    page = _arabic(arabic_client, reverse("admin:exports_exportrecord_change", args=[skipped.pk]))
    assert "cancelled by" not in page and "review resolved" not in page and "skipped" not in page
    with translation.override("ar"):
        assert (str(translation.gettext("cancelled by %(who)s")) % {"who": admin_user.username}) in page


def test_a_status_change_written_before_keeps_its_text(arabic_client, org, conn, vendor):
    approve(org, expense("exp_1"))
    records_work_due()
    record = ExportRecord.objects.get()
    StatusChange.objects.create(record=record, at=timezone.now(), from_status="pending", to_status="pending",
                                why="moved by an old script")
    page = _arabic(arabic_client, reverse("admin:exports_exportrecord_change", args=[record.pk]))
    assert "moved by an old script" in page


def test_what_an_attempt_says_of_itself_reads_in_arabic(arabic_client, org, conn, vendor):
    approve(org, expense("exp_1"))
    records_work_due()
    record = ExportRecord.objects.get()
    now = timezone.now()
    redated = said("redated", date="2026-12-01")
    for number, message, notes in ((2, "reconciled", []), (3, "the worker holding this record stopped answering", []),
                                   (4, "", [str(redated), "the vendor's own note"])):
        ExportAttempt.objects.create(record=record, number=number, started_at=now, finished_at=now,
                                     outcome=ExportAttempt.Outcome.RECONCILED, error_message=message, notes=notes)
    page = _arabic(arabic_client, reverse("admin:exports_exportrecord_change", args=[record.pk]))
    for english in ("reconciled", "stopped answering", "re-dated to"):
        assert english not in page, english
        assert _in_arabic(attempt_shown, str(redated)) in page
    assert "the vendor's own note" in page                  # the vendor's words as it wrote them
    # Nothing was sent: the connectors' rate window and breaker, kept as the attempt's message.
    for english, kept in (("circuit open for Fake books until 10:15:00", "10:15:00"),
                          ("5 requests in 1 s reached", "5"), ("client-side rate limit reached", "")):
        arabic = _in_arabic(attempt_shown, english)
        assert re.search(r"[\u0600-\u06FF]", arabic) and kept in arabic and "reached" not in arabic, english
    # A reversal whose work the vendor had already done (the connectors' notes).
    for english, kept in (("already reversed", ""), ("already deleted in Fake ledger", "Fake ledger")):
        arabic = _in_arabic(attempt_shown, english)
        assert re.search(r"[\u0600-\u06FF]", arabic) and kept in arabic and "already" not in arabic, english


def test_a_refused_action_says_why_in_arabic(arabic_client, org, conn, vendor):
    approve(org, expense("exp_1"))
    records_work_due()
    record = ExportRecord.objects.get()                       # exported: it cannot be re-exported
    response = admin_confirm(arabic_client, reverse("admin:exports_exportrecord_re_export", args=[record.pk]))
    page = _arabic(arabic_client, response.url)
    assert "only a cancelled record can be re-exported" not in page
    with translation.override("ar"):
        exported = str(ExportRecord.Status.EXPORTED.label)
    assert exported in page and "لا يُعاد تصدير إلا سجل ملغى" in page
    refused = IllegalTransition("needs_review", "exported")
    assert str(refused) == "an export record cannot go from needs_review to exported"   # the API's English
    arabic = _in_arabic(refusal_shown, refused)
    assert re.search(r"[\u0600-\u06FF]", arabic) and "cannot" not in arabic and "needs" not in arabic


def test_the_api_still_says_it_in_english(client, org, conn, vendor):
    from exports.errors import ExportError

    approve(org, expense("exp_1"))
    records_work_due()
    record = ExportRecord.objects.get()
    with translation.override("ar"), pytest.raises(ExportError) as refused:
        record_cancel(record=record)
    assert str(refused.value) == "only a pending job can be cancelled; this one is exported"
    assert refused.value.code == "not_cancellable"


def test_the_month_end_checklist_details_and_history_read_in_arabic(org, conn, vendor):
    approve(org, expense("exp_gap", category="TAXI", date="2026-11-05"), rid="rpt_gap")
    records_work_due()
    ReviewItem.objects.update(sla_due_at=timezone.now() - timedelta(days=1))
    rows = {row["key"]: row for row in checklist_compute(organization=org, period=date(2026, 11, 1))}
    late, gaps = rows["review_sla"], rows["mappings"]
    assert late["details"] == ["EXPENSICO-exp_gap-v1: Mapping gap"] and gaps["details"] == ["category TAXI"]
    json.dumps(rows)                                          # stored as JSON at sign-off
    with translation.override("ar"):
        reason = str(R.MAPPING_GAP.label)
        category = translation.gettext("category")
        shown = {key: checklist_row_words(row)["details"] for key, row in rows.items()}
    assert shown["review_sla"] == [f"EXPENSICO-exp_gap-v1: {reason}"] and shown["mappings"] == [f"{category} TAXI"]
    assert reason != "Mapping gap" and category != "category"
    before = {**late, "detail_words": []}                      # a row stored before its lines had words
    assert _in_arabic(checklist_row_words, before)["details"] == late["details"]
    for stored in ("signed off", "reopened: the bank statement came late"):
        arabic = _in_arabic(words_shown, stored, ("close_signed_off", "close_reopened"))
        assert re.search(r"[\u0600-\u06FF]", arabic), stored
    assert "the bank statement came late" in _in_arabic(words_shown, "reopened: the bank statement came late",
                                                         ("close_reopened",))


def _catalog(client) -> dict:
    body = client.get("/admin/jsi18n/").content.decode()
    return json.loads(re.search(r"const newcatalog = (\{.*?\});", body, re.S).group(1))


def test_the_admin_javascript_catalogue_is_arabic_for_the_group_picker(arabic_client):
    """Django 5 reworded the two-box picker (SelectFilter2.js) and its Arabic was not updated: "Choose
    all %s", "Remove all %s", "(click to clear)" … came out English on the group and user pages."""
    script = Path(django.__file__).parent / "contrib/admin/static/admin/js/SelectFilter2.js"
    msgids = {m[1] for m in re.findall(r"""\bn?gettext\(\s*(['"])(.*?)\1""", script.read_text())}
    assert {"Choose all %s", "Remove all %s", "(click to clear)", "Available %s"} <= msgids
    catalog = _catalog(arabic_client)
    assert sorted(m for m in msgids if m not in catalog) == []
    assert catalog["Choose all %s"] == "اختيار كل %s"


def test_django_q2s_app_is_named_in_arabic(arabic_client, admin_user):
    request = RequestFactory().get("/admin/")
    request.user = admin_user
    with translation.override("ar"):
        names = {app["app_label"]: str(app["name"]) for app in admin.site.get_app_list(request)}
    assert names["django_q"] == "المهام"
    page = _arabic(arabic_client, reverse("admin:app_list", args=["django_q"]))
    assert not re.search(r"(?<![\w-])Tasks(?![\w-])", page)
