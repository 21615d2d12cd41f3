from datetime import UTC, datetime
from decimal import Decimal

import pytest

from expensico_sync.source import signals
from expensico_sync.source.models import Expense, ExpenseReport, Reimbursement, WebhookDelivery
from tests.source.factories import expense_payload, report_payload
from tests.source.helpers import approved, post_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def announced():
    seen = []

    def listener(signal_name):
        def receive(sender, **kwargs):
            seen.append((signal_name, kwargs))
        return receive

    receivers = {name: listener(name) for name in ("report_approved", "expense_superseded", "expense_cancelled",
                                                    "funding_recorded", "reimbursement_recorded",
                                                    "statement_lines_recorded")}
    for name, fn in receivers.items():
        getattr(signals, name).connect(fn, weak=False)
    yield seen
    for name, fn in receivers.items():
        getattr(signals, name).disconnect(fn)


def cancelled(expense_id, report_id, version=1):
    return {"type": "expense.cancelled", "created_at": "2026-03-03T10:00:00Z",
            "data": {"expense_id": expense_id, "report_id": report_id, "version": version,
                     "reason": "Duplicate claim", "cancelled_at": "2026-03-03T10:00:00Z"}}


def mirror_state(org):
    return sorted(Expense.objects.filter(organization=org).values_list(
        "expensico_id", "version", "amount", "status", "cancel_reason"))


def test_accepted_then_duplicate(client, org, announced):
    body = approved(report_payload(1))
    first = post_event(client, org, body, webhook_id="msg_a")
    assert first.status_code == 202 and first.json() == {"status": "accepted"}
    again = post_event(client, org, body, webhook_id="msg_a")
    assert again.status_code == 200 and again.json() == {"status": "duplicate"}
    assert Expense.objects.filter(organization=org).count() == 1
    assert [s for s, _ in announced] == ["report_approved"]
    outcomes = sorted(WebhookDelivery.objects.values_list("outcome", flat=True))
    assert outcomes == ["accepted", "duplicate"]
    delivery = WebhookDelivery.objects.get(outcome="accepted")
    assert delivery.signature_valid and delivery.event_type == "expense_report.approved"
    assert "webhook-signature" in delivery.headers and not any("whsec" in v for v in delivery.headers.values())


def test_every_expense_field_is_mirrored(client, org):
    exp = expense_payload(
        7, type="mileage", merchant=None, funding_source="card", card={"id": "card_9", "last4": "4242"},
        currency="KWD", amount="12.345", exchange_rate="12.20450000", description_ar="بدل مسافة",
        tax={"code": "VAT5", "rate": "5.00", "amount": "0.588", "inclusive": False},
        dimensions={"cost_center": "CC-1", "project": "PRJ", "department": "OPS", "client_code": "CL", "region": "W"},
        details={"distance_km": "14.5", "rate_per_km": "0.85"}, custom_fields={"purpose": "site visit"},
        receipts=[{"id": "rcpt_1", "filename": "r.pdf", "content_type": "application/pdf", "size": 10,
                   "sha256": "a" * 64, "url": "https://files.expensico.test/r.pdf"}])
    assert post_event(client, org, approved(report_payload(7, expenses=[exp]))).status_code == 202
    e = Expense.objects.get(organization=org, expensico_id="exp_7")
    assert e.amount == Decimal("12.345") and str(e.amount) == "12.345"  # KWD round-trips exactly
    assert e.exchange_rate == Decimal("12.2045") and e.tax_rate == Decimal("5") and e.tax_amount == Decimal("0.588")
    assert e.tax_inclusive is False and e.tax_code == "VAT5"
    assert e.type == "mileage" and e.merchant == "" and e.description_ar == "بدل مسافة"
    assert e.card.last4 == "4242" and e.card.employee == e.employee == e.report.employee
    assert e.details == {"distance_km": "14.5", "rate_per_km": "0.85"}
    assert e.dimensions["region"] == "W" and e.custom_fields == {"purpose": "site visit"}
    assert e.has_receipts and e.receipts.get().sha256 == "a" * 64
    report = ExpenseReport.objects.get(organization=org)
    assert report.raw["expenses"][0]["amount"] == "12.345"
    assert report.approved_by_name == "Omar" and report.employee.email == "aisha@example.com"


def test_money_as_a_json_number_is_refused_naming_the_field(client, org):
    # The contract sends money as decimal strings only; a JSON number is a sender bug, not a float.
    text = ('{"type":"expense_report.approved","created_at":"2026-03-02T10:00:00Z","data":{"report":'
            + __import__("json").dumps(report_payload(8, expenses=[expense_payload(8, tax=None)]))[:-1]
            + "}}}")
    text = text.replace('"amount": "115.000"', '"amount": 10.300')
    response = post_event(client, org, None, raw=text)
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "data.report.expenses.0.amount"
    assert not Expense.objects.exists()


@pytest.mark.parametrize(("mutate", "attr"), [
    (lambda b: b["data"]["report"]["expenses"][0].update(amount="12.3456"), "data.report.expenses.0.amount"),
    (lambda b: b["data"]["report"]["expenses"][0].update(amount="abc"), "data.report.expenses.0.amount"),
    (lambda b: b["data"]["report"]["expenses"][0].pop("version"), "data.report.expenses.0.version"),
    (lambda b: b["data"]["report"]["expenses"][0].update(type="bribe"), "data.report.expenses.0.type"),
    (lambda b: b["data"]["report"]["expenses"][0].update(currency="XXQ"), "data.report.expenses.0.currency"),
    (lambda b: b["data"]["report"]["expenses"][0].update(funding_source="card"), "data.report.expenses.0.card"),
    (lambda b: b["data"]["report"]["expenses"][0]["category"].pop("code"), "data.report.expenses.0.category.code"),
    (lambda b: b["data"]["report"]["expenses"][0]["tax"].update(inclusive="maybe"),
     "data.report.expenses.0.tax.inclusive"),
    (lambda b: b["data"]["report"].update(expenses=[]), "data.report.expenses"),
    (lambda b: b["data"]["report"]["employee"].pop("id"), "data.report.employee.id"),
    (lambda b: b.update(type="expense_report.exploded"), "type"),
    (lambda b: b["data"]["report"]["expenses"][1].update(id="exp_3"), "data.report.expenses"),
])
def test_schema_errors_name_the_field_and_are_logged(client, org, mutate, attr):
    body = approved(report_payload(3, expenses=[expense_payload(3), expense_payload(4)]))
    mutate(body)
    response = post_event(client, org, body, webhook_id="msg_bad")
    assert response.status_code == 400
    payload = response.json()
    assert payload["type"] == "validation_error"
    assert attr in [e["attr"] for e in payload["errors"]], payload
    assert Expense.objects.count() == 0
    logged = WebhookDelivery.objects.get(webhook_id="msg_bad")
    assert logged.outcome == "rejected" and attr in logged.reason and logged.body


def test_jpy_with_decimals_is_rejected_and_second_expense_is_named(client, org):
    body = approved(report_payload(5, expenses=[expense_payload(5), expense_payload(6, currency="JPY", amount="10.5",
                                                                                     tax=None)]))
    response = post_event(client, org, body)
    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "data.report.expenses.1.amount"


def test_malformed_json_is_400_and_logged(client, org):
    response = post_event(client, org, None, raw='{"type": "expense_report.approved", ')
    assert response.status_code == 400 and response.json()["errors"][0]["code"] == "parse_error"
    assert WebhookDelivery.objects.get().outcome == "rejected"


def test_rejected_delivery_can_be_resent_with_the_same_id(client, org):
    bad = approved(report_payload(9, expenses=[expense_payload(9, amount="1.2345")]))
    assert post_event(client, org, bad, webhook_id="msg_x").status_code == 400
    good = approved(report_payload(9, expenses=[expense_payload(9)]))
    assert post_event(client, org, good, webhook_id="msg_x").status_code == 202


def test_unknown_organisation_answers_exactly_like_a_bad_signature(client, org):
    """No enumeration: a slug that does not exist and a wrong signature look the same."""
    from types import SimpleNamespace

    from expensico_sync.core.models import new_webhook_secret

    body = approved(report_payload(1, expenses=[expense_payload(1)]))
    # Signed with a real organisation's secret, posted to a slug nobody has.
    unknown = post_event(client, SimpleNamespace(slug="nope", webhook_secret=org.webhook_secret), body)
    bad_signature = post_event(client, org, body, secret=new_webhook_secret())
    assert unknown.status_code == bad_signature.status_code == 401
    assert unknown.content == bad_signature.content
    assert unknown.headers["Content-Type"] == bad_signature.headers["Content-Type"]
    assert not WebhookDelivery.objects.exists()


def test_higher_version_supersedes_lower_is_ignored_and_recorded(client, org, announced):
    v1 = approved(report_payload(1, expenses=[expense_payload(1, amount="100.00")]))
    v2 = approved(report_payload(1, expenses=[expense_payload(1, version=2, amount="110.00")]))
    assert post_event(client, org, v1, webhook_id="m1").status_code == 202
    assert post_event(client, org, v2, webhook_id="m2").status_code == 202
    assert post_event(client, org, v1, webhook_id="m3").status_code == 202  # a late, stale re-send
    assert mirror_state(org) == [("exp_1", 2, Decimal("110.000"), "approved", "")]
    assert [s for s, _ in announced] == ["report_approved", "report_approved", "expense_superseded"]
    assert announced[2][1]["previous_version"] == 1
    stale = WebhookDelivery.objects.get(webhook_id="m3")
    assert stale.decisions == [{"expense": "exp_1", "decision": "ignored_stale_version", "version": 1,
                                "mirror_version": 2}]
    # Equal version is ignored too.
    assert post_event(client, org, v2, webhook_id="m4").status_code == 202
    assert WebhookDelivery.objects.get(webhook_id="m4").decisions[0]["decision"] == "ignored_stale_version"


SEQUENCES = {
    "v1, v2": ["v1", "v2"], "v2, v1": ["v2", "v1"],
    "approve, cancel": ["v1", "cancel1"], "cancel, approve": ["cancel1", "v1"],
    "v1, cancel1, v2": ["v1", "cancel1", "v2"], "v2, cancel1, v1": ["v2", "cancel1", "v1"],
    "cancel2, v1, v2": ["cancel2", "v1", "v2"], "v2, v1, cancel2": ["v2", "v1", "cancel2"],
    "v1, v2, cancel2": ["v1", "v2", "cancel2"],
}


def _events():
    return {
        "v1": approved(report_payload(1, expenses=[expense_payload(1, amount="100.00")])),
        "v2": approved(report_payload(1, expenses=[expense_payload(1, version=2, amount="110.00")])),
        "cancel1": cancelled("exp_1", "rpt_1", 1),
        "cancel2": cancelled("exp_1", "rpt_1", 2),
    }


def _final_state(client, org, order):
    for i, name in enumerate(order):
        assert post_event(client, org, _events()[name], webhook_id=f"{name}-{i}").status_code == 202
    return mirror_state(org)


@pytest.mark.parametrize("pair", [("v1, v2", "v2, v1"), ("approve, cancel", "cancel, approve"),
                                  ("v1, cancel1, v2", "v2, cancel1, v1"), ("v1, v2, cancel2", "cancel2, v1, v2"),
                                  ("v1, v2, cancel2", "v2, v1, cancel2")])
def test_out_of_order_ends_in_the_same_state(client, pair):
    from tests.core.factories import make_org
    states = [_final_state(client, make_org(), SEQUENCES[name]) for name in pair]
    assert states[0] == states[1]


def test_cancel_before_approve_cancels_on_arrival(client, org, announced):
    assert post_event(client, org, cancelled("exp_1", "rpt_1"), webhook_id="c").status_code == 202
    assert WebhookDelivery.objects.get(webhook_id="c").decisions[0]["decision"] == "cancellation_before_approval"
    assert post_event(client, org, _events()["v1"], webhook_id="a").status_code == 202
    assert mirror_state(org) == [("exp_1", 1, Decimal("100.000"), "cancelled", "Duplicate claim")]
    # Not announced as approved (nothing to export), announced as cancelled.
    assert [s for s, _ in announced] == ["expense_cancelled"]


def test_cancel_after_approve_announces_once(client, org, announced):
    post_event(client, org, _events()["v1"], webhook_id="a")
    post_event(client, org, cancelled("exp_1", "rpt_1"), webhook_id="c")
    post_event(client, org, cancelled("exp_1", "rpt_1"), webhook_id="c2")  # same cancellation, new id
    assert [s for s, _ in announced] == ["report_approved", "expense_cancelled"]
    assert Expense.objects.get().cancelled_at == datetime(2026, 3, 3, 10, tzinfo=UTC)


def test_funding_reimbursement_and_statement_lines(client, org, announced):
    funding = {"id": "fund_1", "card": {"id": "card_1", "last4": "1111"}, "employee": {"id": "emp_1", "name": "A"},
               "amount": "500.00", "currency": "SAR", "date": "2026-03-01", "bank_reference": "BNK1",
               "description": "top-up"}
    assert post_event(client, org, {"type": "card.unloaded", "created_at": "2026-03-01T00:00:00Z",
                                    "data": {"funding": funding}}, webhook_id="f1").status_code == 202
    post_event(client, org, {"type": "card.unloaded", "created_at": "2026-03-01T00:00:00Z",
                             "data": {"funding": funding}}, webhook_id="f2")
    post_event(client, org, approved(report_payload(1)), webhook_id="r")
    reimb = {"id": "reimb_1", "employee": {"id": "emp_1", "name": "A"}, "report_ids": ["rpt_1", "rpt_404"],
             "amount": "115.00", "currency": "SAR", "date": "2026-03-04", "bank_reference": "BNK2", "description": "x"}
    assert post_event(client, org, {"type": "reimbursement.paid", "created_at": "2026-03-04T00:00:00Z",
                                    "data": {"reimbursement": reimb}}, webhook_id="p").status_code == 202
    account = {"id": "ba_1", "name": "Funding", "currency": "SAR", "iban": "SA03"}
    lines = [{"id": "l1", "date": "2026-03-01", "amount": "500.00", "balance": "1500.00", "description": "unload",
              "reference": "fund_1", "bank_reference": "BNK1"},
             {"id": "l2", "date": "2026-03-04", "amount": "-115.00", "balance": "1385.00", "description": "claims",
              "reference": "reimb_1", "bank_reference": "BNK2"}]
    for i, chunk in enumerate([lines[:1], lines]):  # l1 appears in both publications
        assert post_event(client, org, {"type": "bank_statement.published", "created_at": "2026-03-05T00:00:00Z",
                                        "data": {"bank_account": account, "lines": chunk}},
                          webhook_id=f"s{i}").status_code == 202
    names = [s for s, _ in announced]
    assert names == ["funding_recorded", "report_approved", "reimbursement_recorded", "statement_lines_recorded",
                     "statement_lines_recorded"]
    funding_obj = announced[0][1]["funding"]
    assert funding_obj.direction == "out" and funding_obj.amount == Decimal("500.00")
    assert [line.expensico_id for line in announced[4][1]["lines"]] == ["l2"]
    reimbursement = announced[2][1]["reimbursement"]
    assert [r.expensico_id for r in reimbursement.reports.all()] == ["rpt_1"]
    assert reimbursement.report_ids == ["rpt_1", "rpt_404"]


def test_reimbursement_before_its_report_is_linked_when_the_report_arrives(client, org):
    reimb = {"id": "reimb_1", "employee": {"id": "emp_1", "name": "A"}, "report_ids": ["rpt_1"],
             "amount": "115.00", "currency": "SAR", "date": "2026-03-04"}
    post_event(client, org, {"type": "reimbursement.paid", "created_at": "2026-03-04T00:00:00Z",
                             "data": {"reimbursement": reimb}}, webhook_id="p")
    post_event(client, org, approved(report_payload(1)), webhook_id="r")
    assert [r.expensico_id for r in Reimbursement.objects.get().reports.all()] == ["rpt_1"]


def test_announcement_listener_failure_rolls_back_everything(client, org):
    def boom(sender, **kwargs):
        raise RuntimeError("export engine down")

    signals.report_approved.connect(boom, weak=False)
    client.raise_request_exception = False
    try:
        response = post_event(client, org, approved(report_payload(1)), webhook_id="m")
    finally:
        signals.report_approved.disconnect(boom)
    assert response.status_code == 500
    assert not Expense.objects.exists() and not WebhookDelivery.objects.filter(outcome="accepted").exists()
    # Expensico retries the same id: processed normally this time.
    assert post_event(client, org, approved(report_payload(1)), webhook_id="m").status_code == 202


def test_a_100_expense_report_is_taken_in_batched_queries(client, org):
    """Speed is measured by bench/intake.py, never timed here; what is asserted is the shape: the
    work for a report does not grow by a query per expense."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries_for(n: int, report: int) -> int:
        body = approved(report_payload(report, expenses=[expense_payload(report * 1000 + i) for i in range(n)]))
        with CaptureQueriesContext(connection) as ctx:
            assert post_event(client, org, body, webhook_id=f"big-{report}").status_code == 202
        return len(ctx.captured_queries)

    small, big = queries_for(10, 11), queries_for(100, 12)
    assert Expense.objects.filter(organization=org).count() == 110
    assert big <= small + 5, f"10 expenses took {small} queries, 100 took {big}"


def test_webhook_does_not_reactivate_a_category_the_pull_api_marked_inactive(client, org):
    from django.db import transaction

    from expensico_sync.source.mirror import categories_upsert
    from expensico_sync.source.models import Category
    with transaction.atomic():
        categories_upsert(organization=org, categories=[{"id": "cat_off", "code": "OFF", "name": "Old", "active": False}])
    post_event(client, org, approved(report_payload(1)), webhook_id="r")
    category = Category.objects.get(organization=org, expensico_id="cat_off")
    assert category.active is False and category.name == "Office supplies"


def test_overlong_webhook_id_is_400_naming_the_header(client, org):
    response = post_event(client, org, approved(report_payload(1)), webhook_id="m" * 201)
    assert response.status_code == 400 and response.json()["errors"][0]["attr"] == "webhook-id"


def test_late_older_approval_adds_its_expense_but_keeps_the_newer_header(client, org):
    newer = approved(report_payload(1, title="Edited", approved_at="2026-03-05T10:00:00Z",
                                    expenses=[expense_payload(1, version=2)]))
    older = approved(report_payload(1, title="First", approved_at="2026-03-02T10:00:00Z",
                                    expenses=[expense_payload(1), expense_payload(2)]))
    post_event(client, org, newer, webhook_id="new")
    post_event(client, org, older, webhook_id="old")
    report = ExpenseReport.objects.get(organization=org)
    assert report.title == "Edited" and report.approved_at.day == 5
    assert mirror_state(org) == [("exp_1", 2, Decimal("115.000"), "approved", ""),
                                 ("exp_2", 1, Decimal("115.000"), "approved", "")]


def test_lone_surrogate_is_400_but_escaped_emoji_is_fine(client, org):
    import json as _json
    text = _json.dumps(approved(report_payload(1, expenses=[expense_payload(1, description="Team lunch \U0001F600")])))
    assert "\\ud83d\\ude00" in text  # ensure_ascii escapes the emoji as a surrogate pair
    assert post_event(client, org, None, raw=text, webhook_id="ok").status_code == 202
    assert Expense.objects.get().description == "Team lunch \U0001F600"
    broken = text.replace("\\ud83d\\ude00", "\\ud83d")
    response = post_event(client, org, None, raw=broken, webhook_id="bad")
    assert response.status_code == 400 and "surrogate" in response.json()["errors"][0]["detail"]


def test_absurdly_nested_json_is_400_not_500(client, org):
    assert post_event(client, org, None, raw="[" * 100_000 + "]" * 100_000).status_code == 400
