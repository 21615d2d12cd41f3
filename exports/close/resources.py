"""django-import-export resources for the evidence pack and the admin lists' CSV/XLSX export.

Export only: nothing here is ever imported back. Secrets never appear (records and attempts
carry none; call logs go out without their bodies)."""

from import_export import fields

from connectors.money import round_money
from expensico_sync.core.spreadsheet import SafeModelResource

from ..models import ExportAttempt, ExportRecord, ReviewItem


def _hash_field(model) -> str | None:
    """The verification hash, when the reconciliation work has added one to the record."""
    names = [f.name for f in model._meta.get_fields() if "hash" in f.name and getattr(f, "concrete", False)]
    return names[0] if names else None


VERIFICATION_HASH = _hash_field(ExportRecord)


def _source(record: ExportRecord):
    return record.expense or record.card_funding or record.reimbursement or record.statement_line


def _decision(item: ReviewItem) -> str:
    if item.resolved_at is None:
        return f"{item.reason}: open since {item.created_at:%Y-%m-%d %H:%M}"
    note = f" ({item.resolution_note})" if item.resolution_note else ""
    return f"{item.reason}: {item.resolution} by {item.resolved_by_label or 'system'} " \
           f"at {item.resolved_at:%Y-%m-%d %H:%M}{note}"


class ChainResource(SafeModelResource):
    """One row per export record: approval → record → attempts → vendor id → verification hash
    → review decisions → mapping version → receipts' SHA-256."""

    source_kind = fields.Field(column_name="source_kind")
    approved_at = fields.Field(column_name="approved_at")
    approved_by = fields.Field(column_name="approved_by")
    source_amount = fields.Field(column_name="source_amount")
    source_currency = fields.Field(column_name="source_currency")
    attempt_log = fields.Field(column_name="attempts_log")
    verification_hash = fields.Field(column_name="verification_hash")
    review_decisions = fields.Field(column_name="review_decisions")
    receipt_sha256 = fields.Field(column_name="receipt_sha256")

    class Meta:
        model = ExportRecord
        fields = export_order = ("source_kind", "source_id", "source_version", "approved_at", "approved_by",
                        "source_amount", "source_currency", "document_date", "posting_date", "id", "kind",
                        "reference", "reverses__reference", "idempotency_key", "status", "attempts",
                        "attempt_log", "external_id", "exported_at", "verification_hash", "review_decisions",
                        "mapping_version", "receipt_sha256")

    def dehydrate_source_kind(self, record):
        source = _source(record)
        return source._meta.model_name if source else ""

    def dehydrate_approved_at(self, record):
        report = getattr(record.expense, "report", None)
        return report.approved_at.isoformat() if report else ""

    def dehydrate_approved_by(self, record):
        report = getattr(record.expense, "report", None)
        return report.approved_by_name if report else ""

    def dehydrate_source_amount(self, record):
        source = _source(record)
        if source is None or getattr(source, "amount", None) is None:
            return ""
        return str(round_money(source.amount, source.currency))   # to the currency's minor unit

    def dehydrate_source_currency(self, record):
        source = _source(record)
        return getattr(source, "currency", "") if source is not None else ""

    def dehydrate_attempt_log(self, record):
        return "; ".join(f"#{a.number} {a.outcome} {a.finished_at:%Y-%m-%d %H:%M:%S}"
                         f"{' ' + a.external_id if a.external_id else ''}" for a in record.export_attempts.all())

    def dehydrate_verification_hash(self, record):
        return str(getattr(record, VERIFICATION_HASH) or "") if VERIFICATION_HASH else ""

    def dehydrate_review_decisions(self, record):
        return "; ".join(_decision(item) for item in record.review_items.all())

    def dehydrate_receipt_sha256(self, record):
        if record.expense is None:
            return ""
        return ";".join(r.sha256 for r in record.expense.receipts.all())


class AttemptResource(SafeModelResource):
    reference = fields.Field(attribute="record__reference", column_name="reference")

    class Meta:
        model = ExportAttempt
        fields = export_order = ("id", "record", "reference", "number", "started_at", "finished_at", "outcome",
                                 "error_class", "error_code", "error_message", "request_id", "external_id",
                                 "duration_ms", "worker", "warnings", "notes")


class ReviewItemResource(SafeModelResource):
    reference = fields.Field(attribute="record__reference", column_name="reference")

    class Meta:
        model = ReviewItem
        fields = export_order = ("id", "record", "reference", "reason", "severity", "detail", "sla_due_at",
                                 "created_at", "resolution", "resolution_note", "manual_external_reference",
                                 "resolved_by_label", "resolved_at")


class ExportRecordResource(SafeModelResource):
    """The outbox list as the admin shows it (no previews: they are large and per-vendor)."""

    connection_name = fields.Field(attribute="connection__name", column_name="connection")

    class Meta:
        model = ExportRecord
        fields = export_order = ("id", "reference", "kind", "status", "connection_name", "source_id",
                                 "source_version", "document_date", "posting_date", "attempts", "external_id",
                                 "exported_at", "mapping_version", "last_error", "created_at")

