from datetime import date, timedelta

import pytest
from django.utils import timezone

from connectors.models import CallLog, Connection
from expensico_sync.core.roles import Role
from exports.metrics import Period, month_metrics
from exports.models import ReviewItem
from tests.core.factories import make_member, make_org
from tests.exports.factories import make_record

NOV = Period(date(2026, 11, 1))


@pytest.fixture
def org(db):
    org = make_org("value")
    for n in range(3):
        make_record(org, document_date=date(2026, 11, 3 + n), status="exported")
    held = make_record(org, document_date=date(2026, 11, 9), status="needs_review")
    fixed = make_record(org, document_date=date(2026, 11, 10), status="exported")
    make_record(org, document_date=date(2026, 10, 30), status="exported")          # another month
    now = timezone.now()
    ReviewItem.objects.create(organization=org, record=held, reason="mapping_gap", sla_due_at=now)
    done = ReviewItem.objects.create(organization=org, record=fixed, reason="mapping_gap", sla_due_at=now,
                                     resolved_at=now + timedelta(hours=5))
    ReviewItem.objects.filter(pk__in=[done.pk]).update(created_at=now)
    return org


def test_month_metrics(org, settings):
    settings.METRICS_MINUTES_PER_DOCUMENT = 6
    ReviewItem.objects.update(created_at=timezone.make_aware(timezone.datetime(2026, 11, 12, 9)))
    ReviewItem.objects.filter(resolved_at__isnull=False).update(
        resolved_at=timezone.make_aware(timezone.datetime(2026, 11, 12, 14)))
    m = month_metrics(org, NOV)
    assert m["systems"] == {"fake": {"documents": 5, "exported": 4, "not_supported": 0, "sync_rate": 0.8}}
    assert m["exceptions"] == [{"reason": "mapping_gap", "label": "Mapping gap", "count": 2, "resolved": 1,
                                "median_hours_to_resolve": 5.0}]
    assert m["time_saved"] == {"documents_without_a_person": 3, "minutes_per_document": "6", "hours": "0.3"}


def test_billed_requests_cost_what_the_vendor_charges(org):
    xledger = Connection.objects.create(organization=org, system="xledger", name="Xledger", base_url="http://127.0.0.1:9/graphql")
    at = timezone.make_aware(timezone.datetime(2026, 11, 15, 12))
    CallLog.objects.bulk_create([CallLog(connection=xledger, created_at=at, method="POST", path="/graphql", status=200)
                                 for _ in range(5003)])
    rows = {r["system"]: r for r in month_metrics(org, NOV)["vendor_requests"]}
    assert rows["xledger"] | {} == {**rows["xledger"], "requests": 5003, "included": 5000, "billed": 3,
                                    "cost": "0.03", "currency": "GBP"}


def test_api(client, org):
    client.force_login(make_member(org, Role.VIEWER))
    body = client.get("/api/v1/metrics?period=2026-11").json()["results"]
    assert [(m["organization"], m["systems"]["fake"]["exported"]) for m in body] == [("value", 4)]
    response = client.get("/api/v1/metrics?period=november")
    assert response.status_code == 400 and response.json()["errors"][0]["attr"] == "period"
