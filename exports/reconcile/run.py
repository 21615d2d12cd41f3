"""Running a reconciliation: read everything first (no transaction open while the vendor is
asked), then store rows, differences and the inputs in one transaction."""

import logging
import math
from collections import defaultdict
from datetime import date
from decimal import Decimal

from django.db import connection as db_connection
from django.db import transaction
from django.utils import timezone
from django_q import tasks as q

from connectors.base import Connector, VendorDocument, connector_for
from connectors.errors import ConnectorError
from connectors.money import round_money

from ..errors import Refused
from ..messages import said, stored_of, word
from ..models import ExportRecord, Kind
from .documents import content_hash, differences, entry_gross
from .models import Reconciliation, ReconciliationDifference, ReconciliationRow
from .sides import (
    UNMAPPED,
    ZERO,
    ExpensicoSide,
    Sheet,
    booked_records,
    booked_sheet,
    expensico_side,
    month_range,
)
from .verify import document_check, mismatch_open

log = logging.getLogger(__name__)
Row = ReconciliationRow.Account
Diff = ReconciliationDifference.Kind


class ReconcileError(Refused):
    """Bad input for a run or an explanation; `field` names what to fix."""

    def __init__(self, detail: str, *, field: str, code: str = "invalid"):
        super().__init__(detail, code=code)
        self.field = field


def control_accounts(connection) -> dict[str, str]:
    return {Row.EMPLOYEES_BALANCE: connection.employees_balance_account,
            Row.EMPLOYEE_CLAIMS: connection.employee_claims_account,
            Row.FUNDING_BANK: connection.funding_bank_account}


def cost_estimate(*, connection, period: date) -> dict:
    """What one run would spend at a vendor that bills requests (Xledger): shown before it runs."""
    connector: Connector = connector_for(connection)
    start, end = month_range(period)
    documents = ExportRecord.objects.filter(connection=connection, document_date__range=(start, end),
                                            status=ExportRecord.Status.EXPORTED).exclude(
        kind=Kind.STATEMENT_TRANSACTION).count()
    pages = max(1, math.ceil(documents / max(1, connector.read_back_page_size)))
    budget = connector.read_back_request_budget
    return {"reads_back": connector.reads_back, "documents": documents, "requests_estimate": pages,
            "request_budget": budget, "needs_confirmation": budget is not None}


@transaction.atomic
def reconciliation_create(*, connection, period: date, user=None, by_label: str = "",
                          confirm_cost: bool = False) -> Reconciliation:
    if period.day != 1:
        raise ReconcileError(said("reconcile_period"), field="period")
    estimate = cost_estimate(connection=connection, period=period)
    if not estimate["reads_back"]:
        raise ReconcileError(said("reconcile_no_read_back", connection=connection), field="connection",
                             code="no_read_back")
    if estimate["needs_confirmation"] and not confirm_cost:
        raise ReconcileError(said("reconcile_confirm_cost", requests=estimate["requests_estimate"],
                                  budget=estimate["request_budget"]), field="confirm_cost", code="confirm_cost")
    run = Reconciliation.objects.create(
        organization_id=connection.organization_id, connection=connection, period=period,
        requests_estimate=estimate["requests_estimate"], created_by=user if getattr(user, "pk", None) else None,
        created_by_label=by_label or str(getattr(user, "username", "") or "system"))
    # The task module is named by string (as in services/doorbell.py): no import of exports.tasks.
    transaction.on_commit(lambda: q.async_task("exports.tasks.reconciliation_execute", run.pk, group="reconcile"))
    return run


def reconciliation_execute(*, reconciliation_id: int) -> str:
    updated = Reconciliation.objects.filter(pk=reconciliation_id, status=Reconciliation.Status.QUEUED).update(
        status=Reconciliation.Status.RUNNING, started_at=timezone.now())
    if not updated:
        return "not queued"
    run = Reconciliation.objects.select_related("connection__organization").get(pk=reconciliation_id)
    try:
        _reconcile(run)
    except ConnectorError as exc:
        log.warning("reconciliation %s failed: %s", run.pk, exc)
        Reconciliation.objects.filter(pk=run.pk).update(status=Reconciliation.Status.FAILED, error=str(exc)[:2000],
                                                        finished_at=timezone.now())
        return "failed"
    return "finished"


def _read_vendor(connector, start: date, end: date) -> tuple[list[VendorDocument], int]:
    docs, requests = [], 0
    for page in connector.read_back(date_from=start, date_to=end):
        requests += page.requests
        docs.extend(page.documents)
    return docs, requests


def _vendor_value(connector, account: str, currency: str, start, end, live: list[VendorDocument]):
    balance = connector.ledger_balance(account, date_from=start, date_to=end, currency=currency)
    if balance is not None:
        return balance, "ledger"
    total = sum((line.debit - line.credit for doc in live if doc.currency.upper() == currency.upper()
                 for line in doc.lines if line.account == account), ZERO)
    return total, "lines"


def _rows(run, connector, expensico: Sheet, booked: Sheet, live, start, end) -> list[ReconciliationRow]:
    control = {kind: account for kind, account in control_accounts(run.connection).items() if account}
    currencies = sorted({c for _, c in expensico} | {c for _, c in booked} | {d.currency.upper() for d in live})
    others = sorted({a for a, _ in expensico} | {a for a, _ in booked})
    rows = []
    for currency in currencies:
        plan = [(kind, account) for kind, account in control.items()]
        plan += [(Row.EXPENSE, a) for a in others if a and a not in control.values()
                 and (expensico.get((a, currency)) or booked.get((a, currency)))]
        for kind, account in plan:
            if account.startswith(UNMAPPED):
                vendor, source = ZERO, "lines"   # not resolved to an account yet: the vendor cannot hold it
            else:
                vendor, source = _vendor_value(connector, account, currency, start, end, live)
            ours = expensico.get((account, currency), ZERO)
            rows.append(ReconciliationRow(
                reconciliation=run, account_kind=kind, account=account, currency=currency,
                expensico=round_money(ours, currency), booked=round_money(booked.get((account, currency), ZERO), currency),
                vendor=round_money(vendor, currency), difference=round_money(vendor - ours, currency),
                vendor_source=source))
    return rows


def _record_differences(run, records, docs) -> tuple[list, list, list]:
    """Our booked documents against the vendor's, by reference: (differences, mismatches to open,
    records found as booked with their vendor hash)."""
    by_ref: dict[str, list[VendorDocument]] = defaultdict(list)
    for doc in docs:
        by_ref[doc.reference].append(doc)
    ours = {r.reference: r for r in records}
    undone = {r.reverses_id for r in records if r.kind == Kind.REVERSAL}
    out, mismatches, verified = [], [], []
    for record in records:
        found = by_ref.get(record.reference, [])
        live = [d for d in found if d.status != "cancelled"]
        currency = record.entry_preview["currency"]
        ours_gross = entry_gross(record.entry_preview)
        base = {"reconciliation": run, "currency": currency, "reference": record.reference, "record": record,
                "source_kind": record.kind, "source_id": record.source_id}
        if not live:
            if record.kind == Kind.REVERSAL or record.pk in undone:
                continue   # undone the vendor's way (deleted or cancelled)
            out.append(ReconciliationDifference(kind=Diff.MISSING_IN_VENDOR, expected=ours_gross,
                                                external_id=record.external_id, **base,
                                                **_detail(said("cancelled_in_vendor" if found else "deleted_in_vendor"))))
            mismatches.append((record, document_check(record, found)))
            continue
        original = next((d for d in live if d.external_id == record.external_id), live[0])
        for extra in live:
            if extra is not original:
                out.append(ReconciliationDifference(
                    kind=Diff.EXTRA_IN_VENDOR, expected=None, actual=abs(extra.amount), external_id=extra.external_id,
                    **_detail(said("second_document", reference=record.reference, ours=original.external_id)), **base))
        changes = differences(record.entry_preview, original)
        if changes:
            out.append(ReconciliationDifference(kind=Diff.AMOUNT_DIFFERS, expected=ours_gross,
                                                actual=abs(original.amount), external_id=original.external_id,
                                                **_detail(said("changes", changes=changes)), **base))
        if changes or len(live) > 1:
            mismatches.append((record, document_check(record, found)))
        elif record.verified_at is None:
            verified.append((record, content_hash(original)))
    for reference, found in by_ref.items():
        if reference in ours:
            continue
        for doc in found:
            if doc.status == "cancelled":
                continue
            what = "booked_by_hand" if not reference else "not_this_month"
            out.append(ReconciliationDifference(
                reconciliation=run, kind=Diff.EXTRA_IN_VENDOR, currency=doc.currency.upper(), reference=reference,
                external_id=doc.external_id, actual=abs(doc.amount),
                **_detail(said("with_memo", what=said(what), memo=doc.memo) if doc.memo else said(what))))
    return out, mismatches, verified


def _detail(text: str) -> dict:
    """A difference's detail: the English text, and its message code to show it in the reader's language."""
    return {"detail": str(text), "detail_message": stored_of(text)}


def _source_differences(run, side: ExpensicoSide) -> list[ReconciliationDifference]:
    out = []
    for doc in side.documents:
        record = doc.record
        if record is not None and record.status == ExportRecord.Status.EXPORTED:
            continue
        held = record is not None and record.status == ExportRecord.Status.NEEDS_REVIEW
        out.append(ReconciliationDifference(
            reconciliation=run, kind=Diff.HELD_IN_REVIEW if held else Diff.NOT_EXPORTED, currency=doc.currency,
            reference=record.reference if record else "", record=record, source_kind=doc.kind,
            source_id=doc.source_id, expected=doc.gross,
            **_detail(said("record_status", status={"status": record.status}) if record else said("no_record"))))
    matched = {doc.bank_reference for doc in side.documents if doc.bank_reference}
    for line in side.statement_lines:
        if (line.bank_reference or line.reference) in matched:
            continue
        out.append(ReconciliationDifference(
            reconciliation=run, kind=Diff.UNMATCHED_STATEMENT_LINE, currency=line.currency, source_kind="statement_line",
            source_id=line.expensico_id, expected=line.amount,
            **_detail(said("unmatched_line", reference=line.bank_reference or line.reference or word("(none)")))))
    return out


def _reconcile(run: Reconciliation) -> None:
    connection = run.connection
    connector = connector_for(connection)
    start, end = month_range(run.period)
    side = expensico_side(connection, run.period)
    records = booked_records(connection, run.period)
    docs, requests = _read_vendor(connector, start, end)
    # Our statement lines are bank-feed items, not ledger bookings, wherever a vendor lists them.
    bank_feed = set(ExportRecord.objects.filter(connection=connection, kind=Kind.STATEMENT_TRANSACTION)
                    .values_list("reference", flat=True))
    docs = [d for d in docs if d.reference not in bank_feed]
    live = [d for d in docs if d.status != "cancelled"]
    rows = _rows(run, connector, side.sheet, booked_sheet(records), live, start, end)
    found, mismatches, verified = _record_differences(run, records, docs)
    found += _source_differences(run, side)
    for diff in found:
        for name in ("expected", "actual"):
            value = getattr(diff, name)
            if value is not None:
                setattr(diff, name, round_money(Decimal(value), diff.currency))
    inputs = {
        "date_from": start.isoformat(), "date_to": end.isoformat(),
        "accounts": {str(k): v for k, v in control_accounts(connection).items()},
        "counts": {"expensico_documents": len(side.documents), "statement_lines": len(side.statement_lines),
                   "booked_records": len(records), "vendor_documents": len(docs)},
        "booked": [[r.pk, r.reference, r.external_id, str(entry_gross(r.entry_preview))] for r in records],
        "vendor_documents": [[d.reference, d.external_id, d.date.isoformat(), d.currency, str(d.amount), d.status,
                              content_hash(d)] for d in docs],
    }
    now = timezone.now()
    with transaction.atomic():
        ReconciliationRow.objects.bulk_create(rows, batch_size=500)
        ReconciliationDifference.objects.bulk_create(found, batch_size=500)
        for record, check in mismatches:
            mismatch_open(record=record, check=check, by=f"reconciliation {run.pk}")
        records_mark_verified(verified, now)
        Reconciliation.objects.filter(pk=run.pk).update(
            status=Reconciliation.Status.FINISHED, inputs=inputs, requests_used=requests, finished_at=now)


def records_mark_verified(verified: list[tuple[ExportRecord, str]], now) -> None:
    """Stores verified_at and each record's vendor hash. On PostgreSQL one UPDATE from two arrays:
    Django's bulk_update builds a CASE per row, which cost more than the whole read-back at 10,000."""
    if not verified:
        return
    if db_connection.vendor == "postgresql":
        table = ExportRecord._meta.db_table
        with db_connection.cursor() as cursor:
            cursor.execute(
                f'UPDATE "{table}" AS r SET verified_at = %s, vendor_hash = v.hash '
                "FROM unnest(%s::bigint[], %s::text[]) AS v(id, hash) WHERE r.id = v.id",
                [now, [r.pk for r, _ in verified], [digest for _, digest in verified]])
        return
    for record, digest in verified:
        record.verified_at, record.vendor_hash = now, digest
    ExportRecord.objects.bulk_update([r for r, _ in verified], ["verified_at", "vendor_hash"], batch_size=500)


@transaction.atomic
def difference_explain(*, difference: ReconciliationDifference, note: str, by=None) -> ReconciliationDifference:
    if not (note or "").strip():
        raise ReconcileError(said("reconcile_note_needed"), field="note")
    difference.explanation = note.strip()
    difference.explained_by = by if getattr(by, "pk", None) and hasattr(by, "is_staff") else None
    difference.explained_by_label = str(getattr(by, "username", "") or by or "system")[:150]
    difference.explained_at = timezone.now()
    difference.save(update_fields=["explanation", "explained_by", "explained_by_label", "explained_at"])
    return difference
