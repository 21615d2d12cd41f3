"""Words the lower floors write into review items and export records (pre-flight findings from
connectors, mapping gaps' details, coding rules' holds and skips from mappings), read in Arabic:
each through the engine itself, shown on the admin page in Arabic, stored in English beside its code
(what the API sends), and a row written before keeps its stored text."""

import html
import re
from datetime import date
from decimal import Decimal

import pytest
from django.utils import translation

from connectors.preflight import MetaAccount, VendorMetadata, entry_findings
from exports.messages import shown
from exports.models import ExportRecord, ReviewItem
from exports.services import preflight
from exports.services.worker import records_work_due
from mappings.models import CodingRule, HoldRule, TaxMapping
from tests.exports.conftest import approve, expense

pytestmark = pytest.mark.django_db

R = ReviewItem.Reason


def _meta(**over) -> VendorMetadata:
    accounts = {"acc-claims": MetaAccount("acc-claims", "2100 Employee claims"),
                "acc-travel": MetaAccount("acc-travel", "6100 Travel", "EXPENSE", active=False),
                "acc-meals": MetaAccount("acc-meals", "6000 Expenses", "EXPENSE", postable=False)}
    return VendorMetadata(**{"accounts": accounts, **over})


@pytest.fixture
def findings_from(monkeypatch):
    """The worker's pre-flight against the metadata given (the real checks, the fake vendor's name)."""
    def use(meta: VendorMetadata):
        monkeypatch.setattr(preflight, "entry_check",
                            lambda *, connection, entry: entry_findings(entry, meta, vendor="Fake books"))
    return use


def _work():
    records_work_due(limit=50)


def _page(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", response.content.decode(), flags=re.S)
    titles = " ".join(re.findall(r'title="([^"]*)"', page))         # a long detail is cut, whole in its title
    page = re.sub(r"</?span\b[^>]*>", "", page)   # inline (a date kept left-to-right): no space in the text
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page) + " " + titles).split())


@pytest.fixture
def arabic(admin_client):
    admin_client.post("/i18n/setlang/", {"language": "ar", "next": "/admin/"})
    return admin_client


def test_preflight_findings_read_in_arabic_and_stay_english_in_the_api(org, conn, vendor, findings_from, arabic):
    findings_from(_meta(currencies=frozenset({"USD"}), required_dimensions={"EXPENSE": ("cost_center",)}))
    approve(org, expense("exp_travel"), rid="rpt_travel")
    approve(org, expense("exp_meals", category="MEALS"), rid="rpt_meals")
    _work()
    travel, meals = (ReviewItem.objects.get(reason=R.PREFLIGHT_FAILED, record__source_id=s)
                     for s in ("exp_travel", "exp_meals"))
    # Stored and sent in English, as before, each finding kept with its code.
    assert "SAR is not enabled in Fake books — enable SAR in Fake books" in travel.detail
    assert "account 6100 Travel is inactive (blocked) in Fake books" in travel.detail
    assert "Fake books requires a cost_center on account 6100 Travel" in travel.detail
    assert "does not take postings in Fake books" in meals.detail
    codes = [f["params"]["problem"]["code"] for f in travel.detail_message["params"]["findings"]]
    assert codes == ["preflight_currency", "preflight_account_inactive", "preflight_required"]
    from exports.serializers import ReviewItemSerializer

    assert ReviewItemSerializer(travel).data["detail"] == travel.detail
    english = ["is not enabled", "enable SAR", "base currency", "inactive (blocked)", "map to an active account",
               "reactivate", "requires a cost_center", "Mappings ›", "does not take postings", "heading",
               "map to a posting account", "Pre-flight"]
    for item in (travel, meals):
        text = _page(arabic, f"/admin/exports/reviewitem/{item.pk}/change/")
        assert [words for words in english if words in text] == []
        text += _page(arabic, f"/admin/exports/exportrecord/{item.record_id}/change/")
        assert [words for words in english if words in text] == []
    text = _page(arabic, f"/admin/exports/reviewitem/{travel.pk}/change/")
    assert "العملة SAR غير مفعّلة في Fake books" in text
    assert "الحساب 6100 Travel غير نشط (موقوف) في Fake books" in text
    assert "يشترط Fake books تحديد cost_center على الحساب 6100 Travel" in text


def test_an_unknown_account_and_a_closed_period_read_in_arabic(org, conn, vendor, findings_from, arabic):
    findings_from(VendorMetadata(accounts={"acc-claims": MetaAccount("acc-claims")}))
    approve(org, expense("exp_unknown"), rid="rpt_unknown")
    _work()
    findings_from(_meta(accounts={"acc-claims": MetaAccount("acc-claims"), "acc-travel": MetaAccount("acc-travel")},
                        closed_through=date(2026, 11, 30)))
    approve(org, expense("exp_closed"), rid="rpt_closed")
    _work()
    unknown = ReviewItem.objects.get(reason=R.PREFLIGHT_FAILED)
    closed = ReviewItem.objects.get(reason=R.PERIOD_CLOSED)
    assert "account acc-travel does not exist in Fake books" in unknown.detail
    assert "2026-11-02 falls in Fake books's closed period (closed through 2026-11-30)" in closed.detail
    text = _page(arabic, f"/admin/exports/reviewitem/{unknown.pk}/change/")
    assert "does not exist" not in text and "choose an existing account" not in text
    assert "الحساب acc-travel غير موجود في Fake books" in text and "اختر حسابًا موجودًا" in text
    text = _page(arabic, f"/admin/exports/reviewitem/{closed.pk}/change/")
    assert "falls in" not in text and "closed period" not in text
    assert "يقع تاريخ 2026-11-02 ضمن فترة مقفلة في Fake books (مقفلة حتى 2026-11-30)" in text


def test_mapping_gap_details_read_in_arabic(org, conn, vendor):
    TaxMapping.objects.create(connection=conn, tax_code="VAT15", tax_rate="tax-15", separate_line=True)
    approve(org, expense("exp_tax", tax={"code": "VAT15", "rate": "15.00", "amount": "15.00", "inclusive": True}))
    _work()
    item = ReviewItem.objects.get(reason=R.MAPPING_GAP)
    assert item.detail == "Missing mapping: tax VAT15: a separate tax line needs a tax account"
    with translation.override("ar"):
        text = shown(item.detail, item.detail_message)
    assert "separate tax line" not in text and "سطر الضريبة المنفصل يحتاج إلى حساب ضريبة" in text, text


def test_a_coding_rules_hold_and_skip_read_in_arabic(org, conn, vendor):
    skip = CodingRule.objects.create(connection=conn, name="Personal", merchant="netflix", skip=True)
    hold = CodingRule.objects.create(connection=conn, name="Taxis", merchant="Careem", merchant_match="contains",
                                     hold=True, hold_reason="check the trip", position=1)
    approve(org, expense("exp_netflix", merchant="NETFLIX.COM"), rid="rpt_netflix")
    approve(org, expense("exp_taxi"), rid="rpt_taxi")
    _work()
    skipped = ExportRecord.objects.get(source_id="exp_netflix")
    held = ReviewItem.objects.get(reason=R.HOLD_RULE)
    assert skipped.last_error == f"skipped by rule #{skip.pk} Personal"
    assert held.detail == f"Held by rule: rule #{hold.pk} Taxis: check the trip"
    with translation.override("ar"):
        assert shown(skipped.last_error, skipped.last_error_message) == f"تم التخطي بموجب القاعدة رقم {skip.pk} Personal"
        assert shown(held.detail, held.detail_message) == \
            f"محجوز بموجب قاعدة: القاعدة رقم {hold.pk} Taxis: check the trip"


def test_a_coding_rules_hold_beside_another_hold_rule_reads_in_arabic(org, conn, vendor):
    hold = CodingRule.objects.create(connection=conn, name="Taxis", merchant="Careem", merchant_match="contains",
                                     hold=True, hold_reason="check the trip")
    HoldRule.objects.create(connection=conn, name="Big spend", amount_over=Decimal("100"))
    approve(org, expense("exp_taxi", amount="115.00"), rid="rpt_taxi")
    _work()
    held = ReviewItem.objects.get(reason=R.HOLD_RULE)
    assert f"rule #{hold.pk} Taxis: check the trip" in held.detail and "Big spend" in held.detail
    with translation.override("ar"):
        text = shown(held.detail, held.detail_message)
    assert f"القاعدة رقم {hold.pk} Taxis: check the trip" in text and "Big spend" in text, text


def test_rows_written_before_keep_their_stored_text(org, conn, vendor, findings_from):
    findings_from(VendorMetadata(accounts={"acc-claims": MetaAccount("acc-claims")}))
    approve(org, expense("exp_old"), rid="rpt_old")
    _work()
    item = ReviewItem.objects.get(reason=R.PREFLIGHT_FAILED)
    old = "Pre-flight: the vendor would refuse this document, nothing was sent. lines[0].account: old words"
    ReviewItem.objects.filter(pk=item.pk).update(detail=old, detail_message={})
    item.refresh_from_db()
    with translation.override("ar"):
        assert shown(item.detail, item.detail_message) == old
