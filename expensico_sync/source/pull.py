"""Historical sync through the pull API (expensico-api.md §2).

Each page is fetched outside any transaction, then mirrored through the same functions as the
webhooks and the stream's next cursor saved in one transaction, so a failed run resumes from
the last committed page and nothing is mirrored twice.
"""

from datetime import date

from django.db import transaction
from django.utils import timezone
from rest_framework import serializers

from . import schemas
from .client import ExpensicoClient
from .mirror import (
    categories_upsert,
    funding_record,
    lines_by_account,
    reimbursement_record,
    report_upsert,
    statement_lines_record,
)
from .models import PullSync


class LineWithAccount(schemas.StatementLineSerializer):
    bank_account = schemas.BankAccountSerializer()


class FundingWithDirection(schemas.FundingSerializer):
    direction = serializers.ChoiceField(["in", "out"])


def _apply_categories(org, rows):
    categories_upsert(organization=org, categories=rows)
    return []


def _apply_reports(org, rows):
    return [d for r in rows for d in report_upsert(organization=org, report=r)]


def _apply_fundings(org, rows):
    return [d for r in rows for d in funding_record(organization=org, funding=r, direction=r["direction"])]


def _apply_reimbursements(org, rows):
    return [d for r in rows for d in reimbursement_record(organization=org, reimbursement=r)]


def _apply_lines(org, rows):
    return [d for account, lines in lines_by_account(rows).values()
            for d in statement_lines_record(organization=org, bank_account=account, lines=lines)]


# stream -> (path, params builder, serializer for one row, apply)
STREAMS = {
    "categories": ("/v1/categories", lambda f, t: {}, schemas.CategoryRef, _apply_categories),
    "expense_reports": ("/v1/expense-reports",
                        lambda f, t: {"status": "approved", "approved_from": f.isoformat(), "approved_to": t.isoformat()},
                        schemas.ReportSerializer, _apply_reports),
    "card_fundings": ("/v1/card-fundings", lambda f, t: {"date_from": f.isoformat(), "date_to": t.isoformat()},
                      FundingWithDirection, _apply_fundings),
    "reimbursements": ("/v1/reimbursements", lambda f, t: {"date_from": f.isoformat(), "date_to": t.isoformat()},
                       schemas.ReimbursementSerializer, _apply_reimbursements),
    "bank_statement_lines": ("/v1/bank-statement-lines",
                             lambda f, t: {"date_from": f.isoformat(), "date_to": t.isoformat()},
                             LineWithAccount, _apply_lines),
}


@transaction.atomic
def pull_sync_create(*, organization, date_from: date, date_to: date) -> PullSync:
    if date_from > date_to:
        raise ValueError("date_from is after date_to")
    return PullSync.objects.create(organization=organization, date_from=date_from, date_to=date_to)


def _validate_rows(serializer_class, rows: list) -> list[dict]:
    schemas.values_check(rows)
    s = serializer_class(data=rows, many=True)
    s.is_valid(raise_exception=True)
    return s.validated_data


def pull_sync_run(*, pull_sync: PullSync, client: ExpensicoClient | None = None) -> PullSync:
    """Runs (or resumes) every stream to its end. Errors are recorded on the row and re-raised."""
    org = pull_sync.organization
    client = client or ExpensicoClient.for_organization(org)
    PullSync.objects.filter(pk=pull_sync.pk).update(
        status=PullSync.Status.RUNNING, started_at=pull_sync.started_at or timezone.now(), error="")
    pull_sync.refresh_from_db()
    try:
        for stream, (path, params, serializer_class, apply) in STREAMS.items():
            state = pull_sync.cursor.get(stream, {})
            if state.get("done"):
                continue
            cursor = state.get("next")
            for rows, next_cursor in client.pages(path, params(pull_sync.date_from, pull_sync.date_to), cursor):
                validated = _validate_rows(serializer_class, rows)
                with transaction.atomic():
                    locked = PullSync.objects.select_for_update().get(pk=pull_sync.pk)
                    decisions = apply(org, validated)
                    counts = dict(locked.counts)
                    counts[stream] = counts.get(stream, 0) + len(rows)
                    ignored = sum(1 for d in decisions if d.get("decision") == "ignored_stale_version")
                    if ignored:
                        counts["ignored_stale_versions"] = counts.get("ignored_stale_versions", 0) + ignored
                    locked.counts = counts
                    locked.cursor = {**locked.cursor, stream: {"next": next_cursor, "done": next_cursor is None}}
                    locked.save(update_fields=["counts", "cursor"])
                    pull_sync = locked
    except Exception as exc:
        PullSync.objects.filter(pk=pull_sync.pk).update(status=PullSync.Status.FAILED, error=repr(exc)[:2000])
        raise
    PullSync.objects.filter(pk=pull_sync.pk).update(status=PullSync.Status.SUCCEEDED, finished_at=timezone.now())
    pull_sync.refresh_from_db()
    return pull_sync
