"""Testing and applying a coding rule (pending re-coded, booked untouched); answering a suggestion."""

from decimal import Decimal

import pytest

from expensico_sync.core.roles import Role
from exports.models import ExportRecord, ReviewItem
from exports.services.coding import rule_apply, rule_test, suggestion_answer
from exports.services.review import ReviewError
from exports.services.worker import records_work_due
from exports.transitions import Status
from mappings.models import CodingCorrection, CodingRule
from tests.core.factories import make_member

from .conftest import approve, expense

pytestmark = pytest.mark.django_db


def work():
    return records_work_due(limit=100)


def account_of(record) -> str:
    return record.entry_preview["lines"][0]["account"]


@pytest.fixture
def history(org, conn, vendor):
    approve(org, expense("exp_1", merchant="Careem"))
    work()
    approve(org, expense("exp_4", amount="60.50", category="HOTEL", merchant="Careem"), rid="rpt_2")
    assert work() == {"needs_review": 1}  # parked on its gap
    approve(org, expense("exp_2", amount="40.00", merchant="Careem"), expense("exp_3", merchant="Uber"), rid="rpt_3")  # not sent yet
    return conn


def test_rule_test_shows_booked_and_pending_changes_and_amounts(history):
    rule = CodingRule.objects.create(connection=history, name="Taxis", merchant="careem", account="acc-taxi",
                                     active=False)
    effect = rule_test(rule=rule)
    assert [r["source_id"] for r in effect["past"]] == ["exp_1"]
    assert sorted(r["source_id"] for r in effect["pending"]) == ["exp_2", "exp_4"]
    assert effect["pending_count"] == 2 and effect["pending_amounts"] == {"SAR": Decimal("100.50")}
    row = next(r for r in effect["pending"] if r["source_id"] == "exp_4")
    assert row["before"].startswith("gap: category HOTEL") and row["after"].startswith("account acc-taxi")


def test_applying_re_codes_pending_only(history, vendor, django_capture_on_commit_callbacks):
    booked = ExportRecord.objects.get(source_id="exp_1")
    rule = CodingRule.objects.create(connection=history, name="Taxis", merchant="careem", account="acc-taxi",
                                     active=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert rule_apply(rule=rule) == {"records": 2, "amounts": {"SAR": Decimal("100.50")}, "queued": False}
    rule.refresh_from_db()
    assert rule.active and rule.history.first().history_change_reason == "Applied to pending expenses"
    work()
    assert vendor.documents["EXPENSICO-exp_4-v1"]["entry"].lines[0].account == "acc-taxi"
    exp2 = ExportRecord.objects.get(source_id="exp_2")
    assert account_of(exp2) == "acc-taxi" and dict(map(tuple, exp2.entry_preview["extra"]))["coded_by"] == \
        f"rule #{rule.pk}"
    assert account_of(ExportRecord.objects.get(source_id="exp_3")) == "acc-travel"
    booked.refresh_from_db()
    assert account_of(booked) == "acc-travel" and booked.status == Status.EXPORTED
    assert vendor.documents["EXPENSICO-exp_1-v1"]["entry"].lines[0].account == "acc-travel"


@pytest.fixture
def many_pending(org, history, monkeypatch):
    """Four pending Careem expenses the rule changes, read two at a time; the test lists one."""
    from exports.services import coding

    approve(org, expense("exp_5", amount="10.00", merchant="Careem"), expense("exp_6", amount="5.00", merchant="Careem"),
            rid="rpt_4")
    monkeypatch.setattr(coding, "APPLY_BATCH", 2)
    monkeypatch.setattr(coding, "PENDING_SAMPLE", 1)
    return CodingRule.objects.create(connection=history, name="Taxis", merchant="careem", account="acc-taxi",
                                     active=False)


def test_the_rule_test_counts_every_pending_expense_it_examines_beyond_those_it_lists(many_pending):
    effect = rule_test(rule=many_pending)
    assert len(effect["pending"]) == 1
    assert effect["pending_count"] == 4 and effect["pending_amounts"] == {"SAR": Decimal("115.50")}
    assert effect["pending_examined"] == effect["pending_candidates"] >= 4


def test_the_rule_test_decides_only_the_newest_candidates_and_says_how_many_there_are(many_pending, monkeypatch):
    """A request decides a bounded number of expenses (each is Python work); applying decides all."""
    from exports.services import coding

    candidates = rule_test(rule=many_pending)["pending_candidates"]
    monkeypatch.setattr(coding, "PENDING_EXAMINED", 3)
    effect = rule_test(rule=many_pending)
    assert effect["pending_candidates"] == candidates and effect["pending_examined"] == 3
    assert effect["pending_count"] <= 3


def test_applying_re_codes_every_pending_expense_in_batches(many_pending, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        result = rule_apply(rule=many_pending)
    assert result == {"records": 4, "amounts": {"SAR": Decimal("115.50")}, "queued": False}
    for source_id in ("exp_2", "exp_5", "exp_6"):
        assert account_of(ExportRecord.objects.get(source_id=source_id)) == "acc-taxi", source_id
    assert not ReviewItem.objects.filter(record__source_id="exp_4", resolved_at__isnull=True).exists()


def test_applying_to_many_pending_expenses_runs_as_a_task_and_reports_the_count(many_pending, monkeypatch,
                                                                               django_capture_on_commit_callbacks):
    from exports.services import coding

    monkeypatch.setattr(coding, "APPLY_INLINE_MAX", 3)
    queued = []
    monkeypatch.setattr(coding, "async_task", lambda func, *args, **kw: queued.append((func, args)))
    result = rule_apply(rule=many_pending)
    assert result == {"records": 4, "amounts": {"SAR": Decimal("115.50")}, "queued": True}
    [(func, args)] = queued
    assert func == "exports.tasks.coding_rule_apply"
    assert ExportRecord.objects.get(source_id="exp_5").entry_preview is None      # nothing re-coded in the request
    from exports import tasks

    with django_capture_on_commit_callbacks(execute=True):
        assert getattr(tasks, func.rsplit(".", 1)[1])(*args)["records"] == 4
    for source_id in ("exp_2", "exp_5", "exp_6"):
        assert account_of(ExportRecord.objects.get(source_id=source_id)) == "acc-taxi", source_id


def test_a_skip_rule_cancels_without_sending(org, conn, vendor):
    CodingRule.objects.create(connection=conn, name="Personal", merchant="netflix", skip=True)
    approve(org, expense("exp_1", merchant="NETFLIX.COM"))
    assert work() == {"cancelled": 1} and vendor.pushes == 0
    assert "skipped by rule" in ExportRecord.objects.get().last_error


def _suggested(org, conn, vendor):
    from mappings.coding import Prediction
    from mappings.snapshot import MappingSnapshot

    approve(org, expense("exp_9", category="HOTEL", merchant="Hilton"))
    import exports.services.resolution as resolution

    real = resolution.mapping_snapshot

    def with_model(connection):
        snap = real(connection)
        return MappingSnapshot(**{**snap.__dict__, "auto_apply": 0.95,
                                  "predictor": lambda doc: Prediction("acc-hotel", "Hotels", 0.71, 4)})
    return with_model


def test_a_suggestion_is_accepted_or_corrected_and_codes_the_expense(org, conn, vendor, monkeypatch,
                                                                      django_capture_on_commit_callbacks):
    import exports.services.resolution as resolution

    monkeypatch.setattr(resolution, "mapping_snapshot", _suggested(org, conn, vendor))
    assert work() == {"needs_review": 1}
    item = ReviewItem.objects.get()
    assert item.reason == ReviewItem.Reason.SUGGESTED_CODING
    assert item.context["account"] == "acc-hotel" and "model v4, p=0.71" in item.detail
    reviewer = make_member(org, Role.REVIEWER, "rana")
    with django_capture_on_commit_callbacks(execute=True):
        correction = suggestion_answer(item=item, by=reviewer, account="acc-lodging", account_name="Lodging")
    assert not correction.accepted and correction.predicted_account == "acc-hotel"
    booked = vendor.documents["EXPENSICO-exp_9-v1"]["entry"]
    assert booked.lines[0].account == "acc-lodging" and dict(booked.extra)["coded_by"] == "reviewer (rana)"
    assert CodingCorrection.objects.get().by_label == "rana"
    with pytest.raises(ReviewError):
        suggestion_answer(item=item, by=reviewer)


def test_accepting_keeps_the_models_account(org, conn, vendor, monkeypatch, django_capture_on_commit_callbacks):
    import exports.services.resolution as resolution

    monkeypatch.setattr(resolution, "mapping_snapshot", _suggested(org, conn, vendor))
    work()
    with django_capture_on_commit_callbacks(execute=True):
        correction = suggestion_answer(item=ReviewItem.objects.get(), by=make_member(org, Role.REVIEWER, "rana"))
    assert correction.accepted and correction.account == "acc-hotel"
    assert vendor.documents["EXPENSICO-exp_9-v1"]["entry"].lines[0].account == "acc-hotel"


def test_a_new_mapping_requeues_a_waiting_suggestion(org, conn, vendor, monkeypatch,
                                                     django_capture_on_commit_callbacks):
    import exports.services.resolution as resolution
    from mappings.models import CategoryMapping
    from mappings.signals import mappings_changed

    monkeypatch.setattr(resolution, "mapping_snapshot", _suggested(org, conn, vendor))
    work()
    monkeypatch.undo()
    CategoryMapping.objects.create(connection=conn, category_code="HOTEL", account="acc-hotel-mapped")
    with django_capture_on_commit_callbacks(execute=True):
        mappings_changed.send(sender=None, organization=org, connection=conn, kinds=frozenset({"category"}))
    assert ReviewItem.objects.get().resolution == ReviewItem.Resolution.FIXED_MAPPING
    assert vendor.documents["EXPENSICO-exp_9-v1"]["entry"].lines[0].account == "acc-hotel-mapped"


def test_rule_test_is_bounded_and_its_queries_do_not_grow_with_history(history, org, monkeypatch):
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    from exports.services import coding

    rule = CodingRule.objects.create(connection=history, name="Taxis", merchant="careem", account="acc-taxi",
                                     active=False)
    with CaptureQueriesContext(db) as small:
        rule_test(rule=rule)
    approve(org, *[expense(f"exp_b{i}", amount=f"{30 + i}.00", merchant="Careem", date=f"2026-10-{i + 1:02d}")
                   for i in range(6)], rid="rpt_9")
    work()
    monkeypatch.setattr(coding, "PAST_SAMPLE", 3)
    with CaptureQueriesContext(db) as large:
        effect = rule_test(rule=rule)
    assert len(effect["past"]) == 3 and "only the latest 3" in effect["past_note"]
    assert len(large) == len(small)                       # one query per kind, whatever the history
    hotels = CodingRule.objects.create(connection=history, name="Hotels", categories=["HOTEL"], account="acc-h",
                                       active=False)
    assert [r["source_id"] for r in rule_test(rule=hotels)["pending"]] == ["exp_4"]   # narrowed in SQL


def test_the_test_page_says_when_it_decided_only_the_newest_candidates(many_pending, admin_client, monkeypatch):
    from django.urls import reverse

    from exports.services import coding

    url = reverse("admin:mappings_codingrule_test_rule", args=[many_pending.pk])
    assert b'id="rule-test-examined"' not in admin_client.get(url).content
    monkeypatch.setattr(coding, "PENDING_EXAMINED", 2)
    page = admin_client.get(url)
    assert page.status_code == 200 and b'id="rule-test-examined"' in page.content
