"""The retention settings page previews the next run with one plan per page (not one per time the
admin renders the read-only field) and counts that stop at a limit on huge tables."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from expensico_sync.retention import admin as retention_admin
from expensico_sync.retention.models import RetentionSettings
from expensico_sync.retention.registry import policies
from expensico_sync.retention.services import plan
from expensico_sync.source.models import WebhookDelivery
from tests.core.factories import make_org

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(db):
    org = make_org("keep")
    WebhookDelivery.objects.bulk_create([
        WebhookDelivery(organization=org, webhook_id=f"msg_{n}", body="{}", outcome="accepted", signature_valid=True)
        for n in range(5)])
    WebhookDelivery.objects.update(received_at=timezone.now() - timedelta(days=400))
    return org


def test_the_change_page_plans_once_and_bounds_its_counts(admin_client, org, monkeypatch):
    monkeypatch.setattr(retention_admin, "PREVIEW_LIMIT", 3)
    settings = RetentionSettings.objects.create(organization=org)
    counts = []
    real = retention_admin.plan

    def spy(*args, **kwargs):
        counts.append(kwargs.get("count_limit"))
        return real(*args, **kwargs)

    monkeypatch.setattr(retention_admin, "plan", spy)
    with CaptureQueriesContext(connection) as ctx:
        page = admin_client.get(reverse("admin:retention_retentionsettings_change", args=[settings.pk]))
    assert page.status_code == 200 and counts == [4]
    assert "more than 3" in page.content.decode()            # 5 webhook bodies due, shown as more than 3
    count_queries = [q for q in ctx.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(count_queries) == len(policies())              # one per policy, once


def test_a_run_still_counts_exactly(org):
    steps = {s.policy.key: s.rows for s in plan(org)}
    assert steps["webhook.bodies"] == 5
    bounded = {s.policy.key: s.rows for s in plan(org, count_limit=2)}
    assert bounded["webhook.bodies"] == 2
