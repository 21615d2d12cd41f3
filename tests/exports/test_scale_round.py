"""Scale of this round's admin pages (bench/scale.py at 1M rows): the anomaly flags' search, filter
and sorts use indexes, and the suggested-coding queue counts its rows once."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from expensico_sync.source.models import Expense
from exports.anomalies.models import AnomalyFlag
from exports.models import ExportRecord, ReviewItem

from .conftest import approve, expense

pytestmark = pytest.mark.django_db


@pytest.fixture
def flagged(org, conn):
    approve(org, *[expense(f"exp_{i}") for i in range(3)])
    for i, row in enumerate(Expense.objects.order_by("expensico_id")):
        AnomalyFlag.objects.create(organization=org, expense=row, detector="unusual_amount" if i else "round_number",
                                   pattern=f"p{i}", score=4.0 + i, explanation=f"Amount {i} is unusual")
    return org


def test_anomaly_search_is_a_prefix_of_the_expense_id_and_the_filter_reads_no_distinct(admin_client, flagged):
    """The explanation's words (contains) in the search's OR joined and scanned every flag and expense
    (1.2 s at 1M); the detector filter listed its choices with a DISTINCT over every flag."""
    url = reverse("admin:exports_anomalyflag_changelist")
    with CaptureQueriesContext(connection) as ctx:
        response = admin_client.get(url, {"q": "exp_1"})
    assert response.status_code == 200
    assert [f.expense.expensico_id for f in response.context["cl"].result_list] == ["exp_1"]
    sqls = [q["sql"] for q in ctx.captured_queries]
    assert not [s for s in sqls if "%exp" in s and "_1%" in s and "'%" in s], "a contains search"
    assert not [s for s in sqls if "DISTINCT" in s and "exports_anomalyflag" in s]
    assert set(response.context["cl"].sortable_by) == {"created_at", "detector_label"}
    filtered = admin_client.get(url, {"detector": "round_number"})
    assert [f.detector for f in filtered.context["cl"].result_list] == ["round_number"]


def test_the_suggested_coding_queue_counts_its_rows_once(admin_client, org, conn):
    approve(org, *[expense(f"exp_{i}") for i in range(3)])
    now = timezone.now()
    records = list(ExportRecord.objects.filter(organization=org))
    assert len(records) == 3
    for record in records:
        ReviewItem.objects.create(organization=org, record=record, reason=ReviewItem.Reason.SUGGESTED_CODING,
                                  sla_due_at=now, context={"account": "6100", "probability": 0.7})
    with CaptureQueriesContext(connection) as ctx:
        response = admin_client.get(reverse("admin:exports_suggestedcoding_changelist"))
    assert response.status_code == 200 and len(response.context["items"]) == 3 and response.context["more"] == 0
    counts = [q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"] and "exports_reviewitem" in q["sql"]]
    assert len(counts) == 1, counts


def test_a_suggestions_page_lists_no_export_records_to_choose_from(admin_client, org, conn):
    """Editable, its record and owner were drop-downs of every export record and user: at 1M records
    the page read them all (minutes, 2 GB)."""
    approve(org, expense("exp_1"), expense("exp_2"))
    first, second = ExportRecord.objects.order_by("pk")
    item = ReviewItem.objects.create(organization=org, record=first, reason=ReviewItem.Reason.SUGGESTED_CODING,
                                     sla_due_at=timezone.now(), context={"account": "6100"})
    with CaptureQueriesContext(connection) as ctx:
        response = admin_client.get(reverse("admin:exports_suggestedcoding_change", args=[item.pk]))
    assert response.status_code == 200
    assert first.reference in response.content.decode() and second.reference not in response.content.decode()
    assert not [q for q in ctx.captured_queries
                if 'FROM "exports_exportrecord"' in q["sql"] and '"exports_exportrecord"."id" =' not in q["sql"]]
