"""Spend anomalies: planted anomalies are found with a readable explanation, a clean month flags
nothing, switches and thresholds apply, and a dismissal teaches the detector."""

import hashlib
import random
from datetime import date
from decimal import Decimal

import pytest

from expensico_sync.source.models import Expense
from exports.anomalies.models import AnomalyDismissal, AnomalyFlag, AnomalySetting
from exports.anomalies.services import anomaly_confirm, anomaly_dismiss, anomaly_scan, anomaly_setting_save
from exports.models import ReviewItem
from exports.services.review import ReviewError

from .conftest import approve, expense

pytestmark = pytest.mark.django_db

EMPLOYEES = [("emp_1", "Noura"), ("emp_2", "Khalid"), ("emp_3", "Sara")]
USUAL = [("HOTEL", "Hilton Riyadh", 450), ("HOTEL", "Hilton Riyadh", 450), ("TRAVEL", "Careem", 50),
         ("TRAVEL", "Careem", 55), ("TRAVEL", "Careem", 45), ("TRAVEL", "Careem", 60),
         ("MEALS", "Albaik", 150), ("MEALS", "Albaik", 140)]
MONTHS = [date(2026, m, 1) for m in range(8, 12)]          # August…November; November is scanned
NOV = date(2026, 11, 1)


def _cents(rng, base) -> str:
    # Receipts carry cents: never a round number, always within ±15 % of the usual.
    return f"{base * rng.uniform(0.85, 1.15):.2f}".replace(".00", ".05")


def _month(org, rng, month, employee, extra=()):
    rows = []
    for day, (category, merchant, base) in enumerate([*USUAL, *extra], start=1):
        eid = f"{employee[0]}_{month:%m}_{day:02d}"
        rows.append(expense(eid, amount=_cents(rng, base), category=category, merchant=merchant,
                            date=month.replace(day=day).isoformat()))
    approve(org, *rows, rid=f"rpt_{employee[0]}_{month:%m}", employee=employee)


def _history(org, extra_for=None):
    rng = random.Random(19)
    for month in MONTHS:
        for employee in EMPLOYEES:
            extra = extra_for.get((employee[0], month), ()) if extra_for else ()
            _month(org, rng, month, employee, extra)


def _scan(org):
    return anomaly_scan(organization=org, since=NOV, until=date(2026, 11, 30))


def test_a_clean_month_flags_nothing(org, conn):
    _history(org)
    result = _scan(org)
    assert (result.found, result.flagged) == (0, 0)
    assert not ReviewItem.objects.filter(reason=ReviewItem.Reason.ANOMALY).exists()


def test_planted_anomalies_are_found_and_explained(org, conn):
    spike = [("HOTEL", "Hilton Riyadh", 450)] * 7          # Sara: seven more normal nights in November
    _history(org, {("emp_3", NOV): spike})
    with_sha = expense("planted_reuse", amount="61.20", merchant="Careem", date="2026-11-20")
    with_sha["receipts"][0]["sha256"] = hashlib.sha256(b"emp_2_10_03").hexdigest()   # an October receipt
    approve(org,
            expense("planted_hotel", amount="1530.00", category="HOTEL", merchant="Hilton Riyadh", date="2026-11-21"),
            expense("planted_split_a", amount="520.40", category="HOTEL", merchant="HILTON RIYADH", date="2026-11-22"),
            expense("planted_split_b", amount="510.10", category="HOTEL", merchant="Hilton Riyadh", date="2026-11-22"),
            rid="rpt_planted", employee=("emp_1", "Noura"))
    approve(org, with_sha, expense("planted_round", amount="200.00", category="MEALS", merchant="Albaik",
                                   date="2026-11-23"), rid="rpt_planted_2", employee=("emp_2", "Khalid"))

    result = _scan(org)

    flags = {f.expense.expensico_id: f for f in AnomalyFlag.objects.select_related("expense")}
    sara_biggest = max(Expense.objects.filter(employee__expensico_id="emp_3", date__gte=NOV),
                       key=lambda e: e.amount).expensico_id
    assert {(f.expense.expensico_id, f.detector) for f in AnomalyFlag.objects.select_related("expense")} == {
        ("planted_hotel", "unusual_amount"), ("planted_split_b", "split_claim"),
        ("planted_reuse", "receipt_reused"), ("planted_round", "round_number"),
        (sara_biggest, "spend_spike")}
    assert result.flagged == 5 and result.attached == 5
    hotel = flags["planted_hotel"]
    assert hotel.explanation.startswith("1,530.00 SAR is 3.") and "× Noura's usual Hotel in SAR" in hotel.explanation
    assert "over the 1,000.00 SAR limit" in flags["planted_split_b"].explanation
    assert "emp_2_10_03" in flags["planted_reuse"].explanation
    assert "Sara spent" in flags[sara_biggest].explanation and "November 2026" in flags[sara_biggest].explanation
    item = hotel.review_item
    assert item.reason == ReviewItem.Reason.ANOMALY and item.detail == hotel.explanation and item.is_warning
    assert item.record.expense_id == hotel.expense_id

    assert _scan(org).flagged == 0                        # scanning again flags nothing twice


def test_switches_and_thresholds_per_organisation(org, conn):
    _history(org)
    approve(org, expense("big", amount="1530.00", category="HOTEL", merchant="Hilton Riyadh", date="2026-11-21"),
            rid="rpt_big", employee=("emp_1", "Noura"))
    anomaly_setting_save(organization=org, detector="unusual_amount", enabled=False)
    anomaly_setting_save(organization=org, detector="weekend_spend", enabled=True,
                         options={"weekend_days": [4, 5], "holidays": []})
    _scan(org)
    detectors = set(AnomalyFlag.objects.values_list("detector", flat=True))
    assert detectors == {"weekend_spend"}                 # 1530 unflagged; Fridays and Saturdays flagged
    fridays = AnomalyFlag.objects.filter(expense__date__week_day=6).count()
    assert fridays and "(weekend)" in AnomalyFlag.objects.first().explanation
    anomaly_setting_save(organization=org, detector="unusual_amount", enabled=True, threshold=1000.0)
    _scan(org)
    assert not AnomalyFlag.objects.filter(detector="unusual_amount").exists()   # a threshold nobody reaches
    with pytest.raises(ValueError, match="^detector: unknown"):
        anomaly_setting_save(organization=org, detector="nope", enabled=True)
    assert AnomalySetting.objects.filter(organization=org).count() == 2


def test_a_dismissal_suppresses_the_pattern_and_teaches_the_detector(org, conn, django_user_model):
    _history(org)
    anomaly_setting_save(organization=org, detector="spend_spike", enabled=False)   # this month's total: not tested
    approve(org, expense("conf", amount="1500.35", category="HOTEL", merchant="Hilton Riyadh", date="2026-11-20"),
            rid="rpt_conf", employee=("emp_1", "Noura"))
    _scan(org)
    flag = AnomalyFlag.objects.get()
    user = django_user_model.objects.create(username="fatima")
    with pytest.raises(ReviewError, match="^reason"):
        anomaly_dismiss(flag=flag, by=user, reason=" ")
    anomaly_dismiss(flag=flag, by=user, reason="Conference week: hotel rates triple")
    flag.refresh_from_db()
    assert flag.status == AnomalyFlag.Status.DISMISSED and flag.decided_by_label == "fatima"
    assert flag.review_item.resolution == ReviewItem.Resolution.ACKNOWLEDGED
    assert AnomalyDismissal.objects.get().pattern == "emp=emp_1:cat=HOTEL:SAR"

    approve(org, expense("conf_2", amount="1600.35", category="HOTEL", merchant="Hilton Riyadh", date="2026-11-24"),
            rid="rpt_conf2", employee=("emp_1", "Noura"))
    result = _scan(org)
    assert (result.flagged, result.suppressed) == (0, 2)   # the dismissed one and the new one: not flagged

    approve(org, expense("conf_3", amount="6000.35", category="HOTEL", merchant="Hilton Riyadh", date="2026-11-25"),
            rid="rpt_conf3", employee=("emp_1", "Noura"))
    assert _scan(org).flagged == 1                         # far beyond what was dismissed: flagged
    with pytest.raises(ReviewError, match="already"):
        anomaly_confirm(flag=flag, by=user)


def test_a_record_parked_for_another_reason_gets_its_flag_later(org, conn):
    _history(org)
    approve(org, expense("big", amount="1530.00", category="HOTEL", merchant="Hilton Riyadh", date="2026-11-21"),
            rid="rpt_big", employee=("emp_1", "Noura"))
    from exports.models import ExportRecord
    from exports.services.review import review_item_open

    record = ExportRecord.objects.get(expense__expensico_id="big")
    other = review_item_open(record=record, reason=ReviewItem.Reason.MAPPING_GAP, detail="Missing mapping")
    assert _scan(org).attached == 0
    flag = AnomalyFlag.objects.get()
    assert flag.review_item is None
    ReviewItem.objects.filter(pk=other.pk).update(resolved_at=record.created_at)
    assert _scan(org).attached == 1
    flag.refresh_from_db()
    assert flag.review_item.reason == ReviewItem.Reason.ANOMALY
    assert Decimal(flag.context["median"]) > 0


def test_api_lists_dismisses_and_sets_detectors_org_scoped(org, conn, client, django_user_model):
    from expensico_sync.core.roles import Role
    from tests.core.factories import make_member, make_org

    _history(org)
    approve(org, expense("big", amount="1530.35", category="HOTEL", merchant="Hilton Riyadh", date="2026-11-21"),
            rid="rpt_big", employee=("emp_1", "Noura"))
    _scan(org)
    reviewer = make_member(org, Role.REVIEWER, "rana")
    outsider = make_member(make_org("other"), Role.OWNER, "olaf")
    client.force_login(outsider)
    assert client.get("/api/v1/anomalies/").json()["results"] == []
    client.force_login(reviewer)
    rows = client.get("/api/v1/anomalies/?status=open").json()["results"]
    assert [r["expense"] for r in rows] == ["big"] and "Noura's usual Hotel" in rows[0]["explanation"]
    url = f"/api/v1/anomalies/{rows[0]['id']}/dismiss/"
    answer = client.post(url, {"reason": ""}, content_type="application/json")
    assert answer.status_code == 400 and answer.json()["errors"][0]["attr"] == "reason"
    answer = client.post(url, {"reason": "conference"}, content_type="application/json")
    assert answer.status_code == 200 and answer.json()["status"] == "dismissed"
    body = {"organization": org.pk, "detector": "weekend_spend", "enabled": True, "options": {"holidays": []}}
    assert client.post("/api/v1/anomaly-settings/", body, content_type="application/json").status_code == 403
    owner = make_member(org, Role.OWNER, "omar")
    client.force_login(owner)
    answer = client.post("/api/v1/anomaly-settings/", body, content_type="application/json")
    assert answer.status_code == 201 and answer.json()["detector"] == "weekend_spend"
    bad = client.post("/api/v1/anomaly-settings/", {**body, "detector": "nope"}, content_type="application/json")
    assert bad.status_code == 400


def test_mileage_and_per_diem_off_the_organisations_rates_are_flagged(org, conn):
    from mappings.models import AllowanceRate

    AllowanceRate.objects.create(organization=org, kind="mileage", currency="SAR", rate=Decimal("0.75"),
                                 effective_from=date(2026, 1, 1))
    AllowanceRate.objects.create(organization=org, kind="per_diem", currency="SAR", rate=Decimal("300"),
                                 effective_from=date(2026, 1, 1))
    approve(org,
            expense("km_off", type="mileage", amount="240.00", date="2026-11-10",
                    details={"distance_km": 240, "rate_per_km": 1.0}),
            expense("km_ok", type="mileage", amount="75.00", date="2026-11-11", details={"distance_km": 100}),
            expense("pd_off", type="per_diem", amount="1000.00", date="2026-11-12",
                    details={"days": 3, "daily_rate": 333.33, "destination": "Jeddah"}),
            rid="rpt_allow", employee=("emp_1", "Noura"))
    _scan(org)
    flags = {f.expense.expensico_id: f for f in AnomalyFlag.objects.select_related("expense")}
    assert set(flags) == {"km_off", "pd_off"}
    assert flags["km_off"].explanation == ("Mileage 240 km at the organisation's 0.75 SAR/km is 180.00 SAR; Expensico "
                                           "states 240.00 SAR (at 1 SAR/km), 60.00 SAR more")
    assert flags["pd_off"].review_item.detail.startswith("Per diem 3 day(s) at the organisation's 300 SAR a day")


def test_amounts_and_ratios_people_read_are_decimal_to_the_minor_unit():
    from datetime import date as day

    from exports.anomalies.detectors import _money, _ratio, _robust, _times, spend_spike

    assert _money(Decimal("1234.5675"), "KWD") == "1,234.568 KWD" and _money(Decimal("99.5"), "JPY") == "100 JPY"
    assert _money(Decimal("10.005"), "SAR") == "10.01 SAR"                     # half up, never float's 10.00
    mid, scale = _robust([Decimal("0.1"), Decimal("0.2"), Decimal("0.3")])
    assert (mid, type(scale)) == (Decimal("0.2"), Decimal)
    assert _ratio(Decimal("1"), Decimal("3")) == Decimal("0.33") and _times(Decimal("3.45")) == "3.5×"

    class F:
        def __init__(self, key, on, amount):
            self.key, self.date, self.amount, self.currency = key, on, Decimal(amount), "KWD"
            self.employee_id, self.employee_name = "emp_1", "Noura"

    facts = [F(f"e{m}", day(2026, m, 5), "100.125") for m in (6, 7, 8)] + [F("big", day(2026, 9, 5), "400.500")]
    [finding] = spend_spike(facts, day(2026, 9, 1), 2.0, {})
    assert "400.500 KWD in September 2026, 4.0× their usual month (100.125 KWD" in finding.explanation
    assert finding.context["usual"] == "100.125" and finding.score == 4.0


def test_the_explanations_read_in_arabic(admin_client, org, conn):
    """Each detector's explanation is stored with its message code and shown in the reader's language
    (names, merchants and amounts as they are), on the flags list, a flag's page and its review item."""
    from tests.exports.test_messages_arabic import _text

    test_planted_anomalies_are_found_and_explained(org, conn)
    admin_client.post("/i18n/setlang/", {"language": "ar", "next": "/admin/"})
    flags = list(AnomalyFlag.objects.all())
    pages = ["/admin/exports/anomalyflag/", *(f"/admin/exports/anomalyflag/{f.pk}/change/" for f in flags),
             *(f"/admin/exports/reviewitem/{f.review_item_id}/change/" for f in flags)]
    english = ["'s usual", "the usual at", " spent ", "claims by", "The same receipt file", "A round", "earlier expenses",
               "possibly one purchase split", "November 2026"]
    found = {}
    for url in pages:
        response = admin_client.get(url)
        assert response.status_code == 200, url
        text = _text(response.content.decode())
        if [e for e in english if e in text]:
            found[url] = [e for e in english if e in text]
    assert found == {}
    assert all(f.explanation_message.get("code") for f in flags)
    text = _text(admin_client.get("/admin/exports/anomalyflag/").content.decode())
    assert "المعتاد لدى Noura" in text and "نوفمبر 2026" in text and "1,530.00 SAR" in text
