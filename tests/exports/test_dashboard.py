import pytest
from django.test import RequestFactory
from django.utils import timezone

from exports.dashboard import exports_panel
from exports.models import ExportAttempt
from tests.core.factories import make_org

from .factories import make_record

pytestmark = pytest.mark.django_db


def _attempt(record, outcome, error_class=""):
    now = timezone.now()
    return ExportAttempt.objects.create(record=record, number=record.export_attempts.count() + 1, started_at=now,
                                        finished_at=now, outcome=outcome, error_class=error_class)


def test_failure_rate_counts_vendor_failures_not_holds():
    org = make_org()
    record = make_record(org)
    _attempt(record, ExportAttempt.Outcome.EXPORTED)
    _attempt(record, ExportAttempt.Outcome.RETRY, "Transient")
    _attempt(record, ExportAttempt.Outcome.NEEDS_REVIEW, "Permanent")  # the vendor refused it
    _attempt(record, ExportAttempt.Outcome.NEEDS_REVIEW)                # a hold: nothing was sent
    panel = exports_panel(RequestFactory().get("/admin/"), [org.pk])
    rate = next(k for k in panel["kpis"] if k["title"] == "Failure rate (24 h)")
    assert rate["value"] == "66.7%" and rate["footer"] == "2 of 3 vendor attempts"
