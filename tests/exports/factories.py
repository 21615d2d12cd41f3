"""Isolation factories: one saved row of each exports model for a given organisation."""

import itertools
from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from connectors.models import Connection
from exports.models import (
    ConnectionClosePolicy,
    DuplicateSettings,
    EvidencePack,
    ExportRecord,
    GeneratedReport,
    HoldPolicy,
    HoldRelease,
    MonthClose,
    PilotScope,
    Reconciliation,
    ReconciliationDifference,
    ReportSchedule,
    ReviewItem,
    SuggestedCoding,
    SyncRun,
)
from tests.registry import isolation_factory

_seq = itertools.count(1)


def connection_for(org) -> Connection:
    return Connection.objects.get_or_create(
        organization=org, name="Isolation books",
        defaults={"system": "fake", "base_url": "http://fake.invalid/"})[0]


@isolation_factory(ExportRecord)
def make_record(org, **over) -> ExportRecord:
    n = next(_seq)
    fields = {"organization": org, "connection": connection_for(org), "kind": "statement_transaction",
              "source_id": f"ln_iso_{n}", "source_version": 1, "reference": f"EXPENSICO-ln_iso_{n}-v1",
              "next_attempt_at": None, **over}
    return ExportRecord.objects.create(**fields)


@isolation_factory(ReviewItem)
def make_review_item(org) -> ReviewItem:
    record = make_record(org, status="needs_review")
    return ReviewItem.objects.create(organization=org, record=record, reason="validation", detail="rejected",
                                     sla_due_at=timezone.now() + timedelta(hours=24))


@isolation_factory(SyncRun)
def make_sync_run(org) -> SyncRun:
    return SyncRun.objects.create(organization=org, connection=connection_for(org), date_from=date(2026, 1, 1),
                                  date_to=date(2026, 1, 31), status="finished")


@isolation_factory(PilotScope)
def make_pilot_scope(org) -> PilotScope:
    return PilotScope.objects.get_or_create(organization=org)[0]


@isolation_factory(MonthClose)
def make_month_close(org) -> MonthClose:
    return MonthClose.objects.get_or_create(organization=org, period=date(2026, 1, 1))[0]


@isolation_factory(EvidencePack)
def make_evidence_pack(org) -> EvidencePack:
    return EvidencePack.objects.create(connection=connection_for(org), period=date(2026, 11, 1),
                                       status=EvidencePack.Status.QUEUED)


@isolation_factory(ConnectionClosePolicy)
def make_close_policy(org) -> ConnectionClosePolicy:
    return ConnectionClosePolicy.objects.get_or_create(connection=connection_for(org))[0]


@isolation_factory(DuplicateSettings)
def make_duplicate_settings(org) -> DuplicateSettings:
    return DuplicateSettings.objects.get_or_create(organization=org)[0]


@isolation_factory(Reconciliation)
def make_reconciliation(org) -> Reconciliation:
    return Reconciliation.objects.create(organization=org, connection=connection_for(org), period=date(2026, 11, 1),
                                         status="finished")


@isolation_factory(ReconciliationDifference)
def make_reconciliation_difference(org) -> ReconciliationDifference:
    return ReconciliationDifference.objects.create(reconciliation=make_reconciliation(org), kind="extra_in_vendor",
                                                   currency="SAR", external_id="manual-1")


@isolation_factory(ReportSchedule)
def make_report_schedule(org) -> ReportSchedule:
    return ReportSchedule.objects.create(organization=org, report="review_items", format="csv", day=1)


@isolation_factory(GeneratedReport)
def make_generated_report(org) -> GeneratedReport:
    from django.core.files.base import ContentFile

    report = GeneratedReport(schedule=make_report_schedule(org), organization=org, filename="r.csv",
                             content_type="text/csv", sha256="0" * 64,
                             expires_at=timezone.now() + timedelta(days=7))
    report.file.save("r.csv", ContentFile(b"id\n"), save=False)
    report.save()
    return report


@isolation_factory(HoldPolicy)
def make_hold_policy(org) -> HoldPolicy:
    return HoldPolicy.objects.create(organization=org, two_person_above=Decimal("5000"))


@isolation_factory(HoldRelease)
def make_hold_release(org) -> HoldRelease:
    item = make_review_item(org)
    return HoldRelease.objects.create(organization=org, record=item.record, review_item=item, approver_label="fatima",
                                      role="finance_admin", step=1, released=False)


def _anomaly_flag(org):
    from exports.anomalies.models import AnomalyFlag
    from tests.source.factories import make_report

    return AnomalyFlag.objects.create(organization=org, expense=make_report(org).expenses.get(), detector="unusual_amount",
                                      pattern="emp=e1:cat=HOTEL:SAR", score=3.4, explanation="3.4× the usual")


def _register_anomalies():
    from exports.anomalies.models import AnomalyDismissal, AnomalyFlag, AnomalySetting

    isolation_factory(AnomalyFlag)(_anomaly_flag)
    isolation_factory(AnomalySetting)(lambda org: AnomalySetting.objects.create(
        organization=org, detector="weekend_spend", enabled=True))
    isolation_factory(AnomalyDismissal)(lambda org: AnomalyDismissal.objects.create(
        organization=org, detector="unusual_amount", pattern="emp=e1:cat=HOTEL:SAR", score=3.4, reason="conference",
        flag=_anomaly_flag(org)))


_register_anomalies()


def _suggested_coding(org):
    item = make_review_item(org)
    ReviewItem.objects.filter(pk=item.pk).update(reason=ReviewItem.Reason.SUGGESTED_CODING,
                                                 context={"account": "acc-1", "probability": 0.6})
    return SuggestedCoding.objects.get(pk=item.pk)


isolation_factory(SuggestedCoding)(_suggested_coding)
