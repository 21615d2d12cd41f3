"""The texts connectors and mappings write for a person to read later, registered with their code
(expensico_sync/core/texts.py): every one has Arabic, renders in Arabic with no English framing
left, keeps its English text unchanged, and survives the caches (pickled)."""

import pickle
import re
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import trans_real

from connectors.models import VendorMetadataCache
from connectors.preflight import MetaAccount, MetaValue, VendorMetadata
from expensico_sync.core.texts import REGISTERED, Said, said, shown
from mappings import gap_words
from mappings.allowances import Rate, allowance_check
from mappings.resolve import GapItem

# Words that stay as they are in Arabic (a product's name, a unit written as the vendor writes it).
KEPT = {"Expensico"}


def _english_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[A-Za-z]{3,}", text) if w not in KEPT}


def test_every_registered_text_has_arabic_with_no_english_left():
    floors = {"preflight_currency", "preflight_required", "mapping_preflight", "gap_no_rate", "allowance_more_at",
              "skipped_by_rule", "coding_rule", "model_guess"}
    assert floors <= set(REGISTERED)           # connectors' and mappings' texts registered at start-up
    catalog = trans_real.translation("ar")._catalog
    left = {}
    for code, template in REGISTERED.items():
        assert template in catalog, code
        values = {name: "٠" for name in re.findall(r"%\((\w+)\)s", template)}
        with translation.override("ar"):
            text = said(code, **values).shown()
        if _english_words(text):
            left[code] = text
    assert left == {}


def test_the_english_is_as_it_was_written_before():
    assert said("preflight_required", vendor="Xledger", kind="project", account="6100 Travel") == \
        "Xledger requires a project on account 6100 Travel"
    assert str(said("gap_no_rate", currency="USD", base="SAR", on=date(2026, 11, 2))) == \
        "no USD→SAR rate on or before 2026-11-02"


def test_a_detail_kept_with_its_code_or_stored_as_text_reads_in_arabic():
    coded = said("gap_vat_exceeds", stated=Decimal("20.00"), amount=Decimal("15.00"))
    with translation.override("ar"):
        assert gap_words.gap_detail_text(coded) == gap_words.gap_detail_text(str(coded)) != str(coded)
        claims = said("gap_choose_account", which=gap_words.CLAIMS)
        assert gap_words.gap_detail_text(claims) == gap_words.gap_detail_text(str(claims))
        assert "Employee Claims" not in gap_words.gap_detail_text(claims)
        assert shown(str(coded), coded.stored()) == gap_words.gap_detail_text(coded)
        assert shown("old words", {}) == "old words" and shown("x", {"code": "gone", "params": {}}) == "x"


def test_a_gap_with_a_coded_detail_survives_the_cache():
    item = GapItem("suggestion", "cost_center", said("gap_model_suggests", value="CC-1",
                                                      label=said("model_guess", version=3, probability="0.61")))
    again = pickle.loads(pickle.dumps(item))
    assert again == item and isinstance(again.detail, Said) and again.detail.stored() == item.detail.stored()
    with translation.override("ar"):
        assert again.detail.shown() == "النموذج يقترح CC-1 (النموذج الإصدار 3، الاحتمال 0.61)"


def test_an_allowance_explanation_reads_in_arabic():
    rates = [Rate("mileage", "SAR", Decimal("0.75"), date(2026, 1, 1)),
             Rate("per_diem", "SAR", Decimal("450"), date(2026, 1, 1), destination="Dubai")]
    mileage = allowance_check(kind="mileage", details={"distance_km": 240, "rate_per_km": "1.00"},
                              amount=Decimal("240.00"), currency="SAR", on=date(2026, 6, 30), rates=rates)
    dubai = allowance_check(kind="per_diem", details={"days": 3, "destination": "dubai"}, amount=Decimal("1200"),
                            currency="SAR", on=date(2026, 3, 1), rates=rates)
    english = mileage.explanation("SAR")
    assert english == ("Mileage 240 km at the organisation's 0.75 SAR/km is 180.00 SAR; Expensico states 240.00 SAR "
                       "(at 1 SAR/km), 60.00 SAR more")
    with translation.override("ar"):
        assert shown(english, english.stored()) == (
            "بدل المسافة عن 240 كم بسعر المؤسسة 0.75 SAR/كم يساوي 180.00 SAR؛ ويذكر Expensico مبلغ 240.00 SAR "
            "(بسعر 1 SAR/كم)، أي بزيادة 60.00 SAR")
        assert dubai.explanation("SAR").shown() == (
            "البدل اليومي عن 3 يوم بسعر المؤسسة 450 SAR لليوم في Dubai يساوي 1,350.00 SAR؛ ويذكر Expensico مبلغ "
            "1,200.00 SAR، أي بنقص 150.00 SAR")


@pytest.mark.django_db
def test_the_mapping_screens_preflight_warns_in_the_readers_language(client, owner, connection):
    meta = VendorMetadata(accounts={"acc_old": MetaAccount("acc_old", "6190 Old travel", "EXPENSE", active=False)},
                          tax_rates={"tax_15": MetaValue("tax_15", "", "VAT 15%")})
    VendorMetadataCache.objects.create(connection=connection, data=meta.to_json(), fetched_at=timezone.now())
    client.force_login(owner)
    client.post("/i18n/setlang/", {"language": "ar", "next": "/admin/"})
    response = client.post(reverse("admin:mappings_categorymapping_add"),
                           {"connection": connection.pk, "category_code": "TRAVEL", "account": "acc_old"})
    error = response.context["adminform"].form.errors["account"][0]
    assert error.startswith("الفحص المسبق: الحساب 6190 Old travel غير نشط (موقوف) في ")
    assert "أعد تفعيل الحساب 6190 Old travel" in error and not _english_words(error) - {"Old", "travel", "Wafeq"}
    response = client.post(reverse("admin:mappings_taxmapping_add"), {"connection": connection.pk,
                                                                        "tax_code": "VAT15", "tax_rate": "tax_5",
                                                                        "treatment": "as_document"})
    assert "رمز الضريبة tax_5 غير موجود في" in response.context["adminform"].form.errors["tax_rate"][0]
