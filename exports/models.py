"""The outbox (ExportRecord), its append-only attempts, the review queue and sync runs."""

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from expensico_sync.core.models import Organization

from . import transitions
from .transitions import Status


class Kind(models.TextChoices):
    EXPENSE = "expense", "Expense"
    REVERSAL = "reversal", "Reversal"
    LEDGER_BANK_TRANSACTION = "ledger_bank_transaction", "Ledger bank transaction"
    STATEMENT_TRANSACTION = "statement_transaction", "Statement transaction"


class ExportRecord(models.Model):
    """One document to book in one connection: (connection, kind, source id, version) is unique.

    The idempotency key is made once, here, and sent on every attempt, so a re-send after a
    crash or timeout can never create a second document at a vendor that honours keys; for the
    others `needs_reconcile` forces a look-up by reference before anything is re-sent.
    """

    Status = Status
    Kind = Kind

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="export_records")
    connection = models.ForeignKey("connectors.Connection", on_delete=models.CASCADE,
                                   related_name="export_records")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    source_id = models.CharField(max_length=120, help_text="Expensico id of the source document")
    source_version = models.PositiveIntegerField(default=1)
    # The source document, by kind (exactly one is set).
    expense = models.ForeignKey("source.Expense", null=True, blank=True, on_delete=models.RESTRICT,
                                related_name="export_records")
    card_funding = models.ForeignKey("source.CardFunding", null=True, blank=True, on_delete=models.RESTRICT,
                                     related_name="export_records")
    reimbursement = models.ForeignKey("source.Reimbursement", null=True, blank=True,
                                      on_delete=models.RESTRICT, related_name="export_records")
    statement_line = models.ForeignKey("source.BankStatementLine", null=True, blank=True,
                                       on_delete=models.RESTRICT, related_name="export_records")
    employee = models.ForeignKey("source.Employee", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="export_records", help_text="For filtering and pilot scope")
    document_date = models.DateField(null=True, blank=True)
    # A reversal points at the record it undoes.
    reverses = models.ForeignKey("self", null=True, blank=True, on_delete=models.RESTRICT,
                                 related_name="reversals")
    sync_run = models.ForeignKey("SyncRun", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="records")

    reference = models.CharField(max_length=160, db_index=True, help_text="Our reference at the vendor")
    idempotency_key = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True)
    wait_reason = models.CharField(max_length=200, blank=True, default="",
                                   help_text="Why a pending record is not due (mode, pilot scope)")
    needs_reconcile = models.BooleanField(
        default=False, help_text="A call may have reached the vendor: look up by reference before sending")
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    leased_until = models.DateTimeField(null=True, blank=True)
    external_id = models.CharField(max_length=200, blank=True, default="", db_index=True)
    vendor_document_number = models.CharField(max_length=100, blank=True, default="",
                                              help_text="The vendor's own document number (Moon ERP, Business Central)")
    vendor_status = models.CharField(max_length=40, blank=True, default="",
                                     help_text="The vendor's status where it is not simply booked (a draft, awaiting "
                                               "approval), re-checked on a schedule until posted or rejected")
    entry_preview = models.JSONField(null=True, blank=True, help_text="The AccountingEntry as built")
    payload_preview = models.JSONField(null=True, blank=True, help_text="The vendor payload (dry run)")
    mapping_version = models.CharField(max_length=64, blank=True, default="")
    last_error = models.TextField(blank=True, default="")
    warnings = models.JSONField(default=list, blank=True,
                                help_text="What the vendor warned about when this was last exported")
    posting_date = models.DateField(
        null=True, blank=True,
        help_text="Posted on this day because its own period was closed (the memo keeps the original date)")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    exported_at = models.DateTimeField(null=True, blank=True)
    # Verification (exports/reconcile/verify.py): the vendor's copy read back and found as booked.
    verified_at = models.DateTimeField(null=True, blank=True)
    vendor_hash = models.CharField(max_length=64, blank=True, default="",
                                   help_text="SHA-256 of the vendor's copy (canonical JSON) when verified")
    hold_released_at = models.DateTimeField(
        null=True, blank=True, help_text="A person released this record's hold: hold rules no longer stop it")

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["connection", "kind", "source_id", "source_version"],
                                    name="export_record_unique_document"),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="export_due_idx"),
                   # Changelist, API and dashboard: every default page, filter and sortable column,
                   # organisation first for members and alone for superusers.
                   models.Index(fields=["organization", "id"], name="export_org_id_idx"),
                   models.Index(fields=["organization", "status", "id"], name="export_org_status_idx"),
                   models.Index(fields=["status", "id"], name="export_status_id_idx"),
                   models.Index(fields=["organization", "document_date", "id"], name="export_org_docdate_idx"),
                   models.Index(fields=["document_date", "id"], name="export_docdate_idx"),
                   models.Index(fields=["organization", "created_at"], name="export_org_created_idx"),
                   models.Index(fields=["organization", "status", "exported_at"], name="export_org_exported_idx"),
                   models.Index(fields=["next_attempt_at", "id"], name="export_next_attempt_idx"),
                   # The two rare-flag filters, as partial indexes: a few rows each, found without a scan.
                   models.Index(fields=["id"], condition=models.Q(needs_reconcile=True), name="export_reconcile_idx"),
                   models.Index(fields=["id"], condition=~models.Q(warnings=[]), name="export_warned_idx"),
                   models.Index(fields=["source_id"], name="export_source_id_idx"),
                   # Documents the vendor holds unposted (drafts): the status re-check's few rows.
                   models.Index(fields=["connection", "id"], condition=~models.Q(vendor_status=""),
                                name="export_vendor_status_idx")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.reference} → {self.connection_id}"

    def save(self, *args, **kwargs):
        # Last line of defence: a plain .save() (admin form, shell) cannot bypass the table.
        loaded = getattr(self, "_loaded_status", None)
        if self.pk and loaded and loaded != self.status:
            transitions.check(loaded, self.status)
        super().save(*args, **kwargs)
        self._loaded_status = self.status

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._loaded_status = instance.__dict__.get("status")
        return instance

    @property
    def is_open(self) -> bool:
        return self.status in transitions.OPEN


class ExportAttempt(models.Model):
    """One try at the vendor (or a reconciliation look-up). Append-only: never updated."""

    class Outcome(models.TextChoices):
        EXPORTED = "exported", "Exported"
        RECONCILED = "reconciled", "Found at the vendor by reference"
        RETRY = "retry", "Transient error, will retry"
        RATE_LIMITED = "rate_limited", "Rate limited, waiting"
        OUTCOME_UNKNOWN = "outcome_unknown", "Outcome unknown"
        NEEDS_REVIEW = "needs_review", "Sent to review"
        DRY_RUN = "dry_run", "Dry run (nothing sent)"
        REDATED = "redated", "Period closed: re-dated into the next open period"

    record = models.ForeignKey(ExportRecord, on_delete=models.CASCADE, related_name="export_attempts")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    error_class = models.CharField(max_length=60, blank=True, default="")
    error_code = models.CharField(max_length=80, blank=True, default="")
    error_message = models.TextField(blank=True, default="")
    request_id = models.CharField(max_length=200, blank=True, default="")
    external_id = models.CharField(max_length=200, blank=True, default="")
    duration_ms = models.PositiveIntegerField(default=0)
    worker = models.CharField(max_length=120, blank=True, default="")
    warnings = models.JSONField(default=list, blank=True, help_text="Vendor warnings: a person must look")
    notes = models.JSONField(default=list, blank=True, help_text="Vendor notes: informational")

    class Meta:
        ordering = ["record", "number"]
        indexes = [models.Index(fields=["finished_at"], name="export_attempt_finished_idx")]

    def __str__(self):
        return f"#{self.number} {self.outcome}"

    def save(self, *args, **kwargs):
        if self.pk:
            raise ValueError("export attempts are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("export attempts are append-only")


class ReviewItem(models.Model):
    class Reason(models.TextChoices):
        MAPPING_GAP = "mapping_gap", _("Mapping gap")
        VALIDATION = "validation", _("Rejected by the vendor")
        AUTH = "auth", _("Connection needs re-authorising")
        DUPLICATE_CONFLICT = "duplicate_conflict", _("Duplicate conflict")
        REMOTE_ERROR = "remote_error", _("Remote error")
        RETRIES_EXHAUSTED = "retries_exhausted", _("Retries exhausted")
        HOLD_RULE = "hold_rule", _("Held by a rule")
        MISSING_RECEIPT = "missing_receipt", _("Missing receipt")
        # The record is booked (exported); the vendor said something a person should see.
        VENDOR_WARNING = "vendor_warning", _("Exported with a warning")
        # The vendor accepted the document, then its import job failed: nothing was booked.
        IMPORT_FAILED = "import_failed", _("Import failed at the vendor")
        # Month-end close, fidelity and coding intelligence (issues 17–19).
        VENDOR_MISMATCH = "vendor_mismatch", _("Changed in the vendor after booking")
        POSSIBLE_DUPLICATE = "possible_duplicate", _("Possible duplicate expense")
        PERIOD_CLOSED = "period_closed", _("Period closed")
        PREFLIGHT_FAILED = "preflight_failed", _("Would be refused (pre-flight)")
        SUGGESTED_CODING = "suggested_coding", _("Suggested coding")
        ANOMALY = "anomaly", _("Unusual spend")

    class Severity(models.TextChoices):
        LOW = "low", _("Low")
        MEDIUM = "medium", _("Medium")
        HIGH = "high", _("High")

    class Resolution(models.TextChoices):
        RETRIED = "retried", _("Retried")
        FIXED_MAPPING = "fixed_mapping", _("Fixed the mapping")
        BOOKED_MANUALLY = "booked_manually", _("Booked manually")
        SKIPPED = "skipped", _("Skipped")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")   # vendor warnings only: the record stays as it is
        RELEASED = "released", _("Hold released: approved and exported")

    SLA = {Severity.HIGH: timedelta(hours=4), Severity.MEDIUM: timedelta(hours=24),
           Severity.LOW: timedelta(hours=72)}

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="review_items")
    record = models.ForeignKey(ExportRecord, on_delete=models.CASCADE, related_name="review_items")
    reason = models.CharField(max_length=24, choices=Reason.choices)
    severity = models.CharField(_("severity"), max_length=8, choices=Severity.choices, default=Severity.MEDIUM)
    detail = models.TextField(blank=True, default="")
    context = models.JSONField(default=dict, blank=True, help_text="e.g. the missing mapping's kind and key")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("owner"), null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="review_items")
    sla_due_at = models.DateTimeField(_("due by"))
    resolution = models.CharField(_("resolution"), max_length=20, choices=Resolution.choices, blank=True, default="")
    resolution_note = models.TextField(blank=True, default="")
    manual_external_reference = models.CharField(max_length=200, blank=True, default="")
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    resolved_by_label = models.CharField(_("resolved by"), max_length=150, blank=True, default="")
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("review item")
        verbose_name_plural = _("review items")
        ordering = ["resolved_at", "sla_due_at", "id"]
        constraints = [
            # One open item per record: a record is parked once, whatever the reason.
            models.UniqueConstraint(fields=["record"], condition=models.Q(resolved_at__isnull=True),
                                    name="review_item_one_open_per_record"),
        ]
        # The queue's own order, so a page is read in order and joined to its 50 records, rather
        # than every record joined and sorted.
        indexes = [models.Index(fields=["resolved_at", "sla_due_at", "id"], name="review_queue_idx"),
                   models.Index(fields=["sla_due_at", "id"], condition=models.Q(resolved_at__isnull=True),
                                name="review_open_sla_idx"),
                   models.Index(fields=["organization", "resolved_at", "sla_due_at", "id"],
                                name="review_org_queue_idx"),
                   # The month's exceptions (value metrics) by creation time.
                   models.Index(fields=["organization", "created_at"], name="review_org_created_idx")]

    def __str__(self):
        return f"{self.get_reason_display()} · {self.record.reference}"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    @property
    def overdue(self) -> bool:
        return self.is_open and self.sla_due_at < timezone.now()

    @property
    def is_warning(self) -> bool:
        """On a booked record a person only acknowledges: a vendor warning, a changed copy at the
        vendor, or a flag raised while the record went out anyway (a possible duplicate under
        export-and-flag)."""
        return self.reason in (self.Reason.VENDOR_WARNING, self.Reason.VENDOR_MISMATCH) \
            or self.context.get("flag_only") is True



class SuggestedCoding(ReviewItem):
    """The suggested-coding queue: open `suggested_coding` review items seen as their own admin
    screen, worked from the keyboard (j/k to move, a to accept, c to correct)."""

    class Meta:
        proxy = True
        verbose_name = "suggested coding"
        verbose_name_plural = "suggested coding queue"

class SyncRun(models.Model):
    """A manual/historical sync for a date range: pull from Expensico, then export what is missing."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        PULLING = "pulling", "Pulling from Expensico"
        EXPORTING = "exporting", "Exporting"
        FINISHED = "finished", "Finished"
        FAILED = "failed", "Failed"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="sync_runs")
    connection = models.ForeignKey("connectors.Connection", on_delete=models.CASCADE, related_name="sync_runs")
    pull_sync = models.ForeignKey("source.PullSync", null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="sync_runs")
    date_from = models.DateField()
    date_to = models.DateField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED)
    found = models.PositiveIntegerField(default=0)
    already_there = models.PositiveIntegerField(default=0)
    exported = models.PositiveIntegerField(default=0)
    held = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self):
        return f"Sync {self.date_from} → {self.date_to} ({self.get_status_display()})"

    @property
    def done(self) -> int:
        return self.already_there + self.exported + self.held + self.failed

    @property
    def progress(self) -> int:
        """Percent of found documents settled (exported, already there, held or failed)."""
        if self.status == self.Status.FINISHED:
            return 100
        return int(100 * self.done / self.found) if self.found else 0


class PilotScope(models.Model):
    """In pilot mode only these employees' or categories' documents export; the rest wait."""

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="pilot_scope")
    employees = models.ManyToManyField("source.Employee", blank=True, related_name="+")
    categories = models.ManyToManyField("source.Category", blank=True, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Pilot scope · {self.organization}"


class ImportFailureCursor(models.Model):
    """How far the asynchronous import failures of one connection have been handled, in the
    vendor's own clock (its timestamps are compared only with each other)."""

    connection = models.OneToOneField("connectors.Connection", on_delete=models.CASCADE,
                                      related_name="import_failure_cursor")
    since = models.CharField(max_length=64, blank=True, default="",
                             help_text="Vendor timestamp of the newest failure handled; empty: from the start")
    polled_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"Import failures of {self.connection_id} since {self.since or 'the start'}"


class ClosedPeriodPolicy(models.TextChoices):
    NEXT_OPEN = "next_open", "Post on the first day of the next open period"
    HOLD = "hold", "Hold for review"


class DuplicatePolicy(models.TextChoices):
    HOLD = "hold", "Hold for review before export"
    FLAG = "flag", "Export and flag for review"


class ConnectionClosePolicy(models.Model):
    """What the engine does with a document whose period is closed (at the vendor or by our own
    close). No row: hold for review."""

    connection = models.OneToOneField("connectors.Connection", on_delete=models.CASCADE,
                                      related_name="close_policy")
    closed_period = models.CharField(max_length=12, choices=ClosedPeriodPolicy.choices,
                                     default=ClosedPeriodPolicy.HOLD)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    def __str__(self):
        return f"Closed periods of {self.connection_id}: {self.get_closed_period_display()}"


class DuplicateSettings(models.Model):
    """Whether a possible duplicate expense is held before export or exported and flagged.
    No row: held."""

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="duplicate_settings")
    policy = models.CharField(max_length=8, choices=DuplicatePolicy.choices, default=DuplicatePolicy.HOLD)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "duplicate settings"

    def __str__(self):
        return f"Duplicates in {self.organization}: {self.get_policy_display()}"


class MonthClose(models.Model):
    """One organisation's month: signed off by a finance admin (the month is then locked), reopened
    only by an owner with a reason. Every change is kept in its history."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        SIGNED_OFF = "signed_off", "Signed off"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="month_closes")
    period = models.DateField(help_text="The first day of the month")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN, db_index=True)
    checklist = models.JSONField(default=list, blank=True, help_text="The checklist as it was at sign-off")
    signed_off_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="+")
    signed_off_by_label = models.CharField(max_length=150, blank=True, default="")
    signed_off_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(blank=True, default="")
    reopened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    reopened_at = models.DateTimeField(null=True, blank=True)
    reopen_reason = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["organization", "-period"]
        constraints = [models.UniqueConstraint(fields=["organization", "period"], name="month_close_unique")]

    def __str__(self):
        return f"{self.period:%Y-%m} · {self.organization} ({self.get_status_display()})"

    @property
    def locked(self) -> bool:
        return self.status == self.Status.SIGNED_OFF


class HoldPolicy(models.Model):
    """Per organisation: above this amount a held expense needs two different approvers."""

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="hold_policy")
    two_person_above = models.DecimalField(
        max_digits=18, decimal_places=3, null=True, blank=True,
        help_text="In the organisation's base currency. Blank: one approver always suffices.")
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "hold policies"

    def __str__(self):
        return f"Hold policy · {self.organization}"


class HoldRelease(models.Model):
    """One person's approval of a held record (append-only audit): the first of two, or the one."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    record = models.ForeignKey(ExportRecord, on_delete=models.CASCADE, related_name="hold_releases")
    review_item = models.ForeignKey(ReviewItem, on_delete=models.CASCADE, related_name="hold_releases")
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    approver_label = models.CharField(max_length=150)
    role = models.CharField(max_length=20)
    step = models.PositiveSmallIntegerField(help_text="1: first approval; 2: the second, different approver")
    released = models.BooleanField(help_text="This approval released the hold")
    note = models.TextField(blank=True, default="")
    amount = models.DecimalField(max_digits=18, decimal_places=3, null=True, blank=True,
                                 help_text="The amount in base currency the two-person check used")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["record", "step"]
        constraints = [models.UniqueConstraint(fields=["review_item", "step"], name="hold_release_one_per_step")]

    def __str__(self):
        return f"{self.approver_label} approved step {self.step} of {self.record_id}"

    def save(self, *args, **kwargs):
        if self.pk:
            raise ValueError("hold approvals are append-only")
        super().save(*args, **kwargs)


from .anomalies.models import (  # noqa: E402, F401  (spend anomalies)
    AnomalyDismissal,
    AnomalyFlag,
    AnomalySetting,
)
from .close.models import EvidencePack  # noqa: E402, F401  (built evidence packs)
from .reconcile.models import Reconciliation, ReconciliationDifference, ReconciliationRow  # noqa: E402, F401
from .reports.models import GeneratedReport, ReportSchedule  # noqa: E402, F401  (scheduled reports)
from .snapshots.models import Snapshot  # noqa: E402, F401  (stored live checklists and metrics)
from .status_log import StatusChange  # noqa: E402, F401  (each record's status-change log)
