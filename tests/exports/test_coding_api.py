"""API: releasing holds (role-checked, two-person), testing/applying coding rules with a confirmed
count, answering suggestions, and categoriser versions (organisation-scoped)."""

from decimal import Decimal

import pytest

from expensico_sync.core.roles import Role
from expensico_sync.core.services import api_key_create
from exports.models import ExportRecord, HoldPolicy, ReviewItem
from exports.services.worker import records_work_due
from exports.transitions import Status
from mappings.models import CategoriserModel, CodingRule, HoldRule
from tests.core.factories import make_org

from .conftest import approve, expense, make_connection

pytestmark = pytest.mark.django_db


def client_for(client, org, role, name):
    _, key = api_key_create(organization=org, role=role, name=name)
    client.defaults["HTTP_AUTHORIZATION"] = f"Api-Key {key}"
    return client


@pytest.fixture
def held(org, conn, vendor):
    HoldRule.objects.create(connection=conn, name="Big spend", amount_over=Decimal("1000"))
    approve(org, expense("exp_1", amount="5000.00"))
    records_work_due()
    return ReviewItem.objects.get()


def test_release_needs_the_role_and_two_keys_above_the_amount(client, org, held, vendor,
                                                              django_capture_on_commit_callbacks):
    url = f"/api/v1/review-items/{held.pk}/release"
    reviewer = client_for(client, org, Role.REVIEWER, "reviewer")
    response = reviewer.post(url, {}, content_type="application/json")
    assert response.status_code == 403, response.content
    HoldPolicy.objects.create(organization=org, two_person_above=Decimal("1000"))
    first = client_for(client, org, Role.FINANCE_ADMIN, "first")
    body = first.post(url, {"note": "ok"}, content_type="application/json").json()
    assert body["step"] == 1 and not body["released"] and body["item"]["resolved_at"] is None
    again = first.post(url, {}, content_type="application/json")
    assert again.status_code == 400 and "different" in again.content.decode()
    second = client_for(client, org, Role.OWNER, "second")
    with django_capture_on_commit_callbacks(execute=True):
        body = second.post(url, {}, content_type="application/json").json()
    assert body["released"] and body["item"]["resolution"] == "released"
    assert ExportRecord.objects.get().status == Status.EXPORTED and vendor.pushes == 1


def test_rule_effects_and_apply_with_a_confirmed_count(client, org, conn, vendor):
    approve(org, expense("exp_1", amount="40.00", merchant="Careem"), expense("exp_2", merchant="Uber"))
    rule = CodingRule.objects.create(connection=conn, name="Taxis", merchant="careem", account="acc-taxi", active=False)
    api = client_for(client, org, Role.FINANCE_ADMIN, "erp")
    effect = api.get(f"/api/v1/coding-rule-effects/{rule.pk}").json()
    assert effect["pending_count"] == 1 and effect["pending_amounts"] == {"SAR": "40.000"}
    assert effect["pending"][0]["after"].startswith("account acc-taxi")
    stale = api.post(f"/api/v1/coding-rule-effects/{rule.pk}/apply", {"confirm_count": 5},
                     content_type="application/json")
    assert stale.status_code == 409
    assert not CodingRule.objects.get().active
    done = api.post(f"/api/v1/coding-rule-effects/{rule.pk}/apply", {"confirm_count": 1},
                    content_type="application/json")
    assert done.json() == {"records": 1, "amounts": {"SAR": "40.000"}, "queued": False}
    assert CodingRule.objects.get().active


def test_coding_rules_are_crud_and_organisation_scoped(client, org, conn):
    api = client_for(client, org, Role.FINANCE_ADMIN, "erp")
    created = api.post("/api/v1/coding-rules", {"connection": conn.pk, "name": "Taxis", "merchant": "careem",
                                                "account": "acc-taxi"}, content_type="application/json")
    assert created.status_code == 201, created.content
    bad = api.post("/api/v1/coding-rules", {"connection": conn.pk, "name": "Bad", "merchant": "(",
                                            "merchant_match": "regex", "account": "1"}, content_type="application/json")
    assert bad.status_code == 400 and "merchant" in bad.content.decode()
    other = make_org("other")
    foreign = CodingRule.objects.create(connection=make_connection(other), name="Theirs", merchant="x", account="1")
    assert api.get(f"/api/v1/coding-rules/{foreign.pk}").status_code == 404
    assert api.get(f"/api/v1/coding-rule-effects/{foreign.pk}").status_code == 404


def test_categoriser_versions_and_rollback(client, org, conn):
    from django.utils import timezone

    def version(n, status):
        return CategoriserModel.objects.create(connection=conn, version=n, status=status, trained_at=timezone.now(),
                                               training_size=10, heldout_accuracy=0.9, sklearn_version="x", blob=b"")

    v1, v2 = version(1, "retired"), version(2, "promoted")
    api = client_for(client, org, Role.FINANCE_ADMIN, "erp")
    rows = api.get("/api/v1/categoriser-models").json()["results"]
    assert [r["version"] for r in rows] == [2, 1] and "blob" not in rows[0]
    body = api.post(f"/api/v1/categoriser-models/{v1.pk}/rollback").json()
    assert body["status"] == "promoted"
    v2.refresh_from_db()
    assert v2.status == "retired"
    viewer = client_for(client, org, Role.VIEWER, "viewer")
    assert viewer.post(f"/api/v1/categoriser-models/{v2.pk}/rollback").status_code == 403
