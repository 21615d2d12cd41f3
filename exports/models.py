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
    EXPENSE = "expense", _("Expense")
    REVERSAL = "reversal", _("Reversal")
    LEDGER_BANK_TRANSACTION = "ledger_bank_transaction", _("Ledger bank transaction")
    STATEMENT_TRANSACTION = "statement_transaction", _("Statement transaction")


class ExportRecord(models.Model):
    """One document to book in one connection: (connection, kind, source id, version) is unique.

    The idempotency key is made once, here, and sent on every attempt, so a re-send after a
    crash or timeout can never create a second document at a vendor that honours keys; for the
    others `needs_reconcile` forces a look-up by reference before anything is re-sent.
    """

    Status = Status
    Kind = Kind

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="export_records", verbose_name=_("organisation"))
    connection = models.ForeignKey("connectors.Connection", on_delete=models.CASCADE,
                                   related_name="export_records", verbose_name=_("connection"))
    kind = models.CharField(max_length=32, choices=Kind.choices, verbose_name=_("kind"))
    source_id = models.CharField(max_length=120, help_text=_("Expensico id of the source document"), verbose_name=_("source ID"))
    source_version = models.PositiveIntegerField(default=1, verbose_name=_("source version"))
    # The source document, by kind (exactly one is set).
    expense = models.ForeignKey("source.Expense", null=True, blank=True, on_delete=models.RESTRICT,
                                related_name="export_records", verbose_name=_("expense"))
    card_funding = models.ForeignKey("source.CardFunding", null=True, blank=True, on_delete=models.RESTRICT,
                                     related_name="export_records", verbose_name=_("card funding"))
    reimbursement = models.ForeignKey("source.Reimbursement", null=True, blank=True,
                                      on_delete=models.RESTRICT, related_name="export_records", verbose_name=_("reimbursement"))
    statement_line = models.ForeignKey("source.BankStatementLine", null=True, blank=True,
                                       on_delete=models.RESTRICT, related_name="export_records", verbose_name=_("statement line"))
    employee = models.ForeignKey("source.Employee", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="export_records", help_text=_("For filtering and pilot scope"), verbose_name=_("employee"))
    document_date = models.DateField(null=True, blank=True, verbose_name=_("document date"))
    # A reversal points at the record it undoes.
    reverses = models.ForeignKey("self", null=True, blank=True, on_delete=models.RESTRICT,
                                 related_name="reversals", verbose_name=_("reverses"))
    sync_run = models.ForeignKey("SyncRun", null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="records", verbose_name=_("sync run"))

    reference = models.CharField(max_length=160, db_index=True, help_text=_("Our reference at the vendor"), verbose_name=_("reference"))
    idempotency_key = models.UUIDField(default=uuid.uuid4, editable=False, unique=True, verbose_name=_("idempotency key"))
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True, verbose_name=_("status"))
    wait_reason = models.CharField(max_length=200, blank=True, default="",
                                   help_text=_("Why a pending record is not due (mode, pilot scope)"), verbose_name=_("wait reason"))
    needs_reconcile = models.BooleanField(
        default=False, help_text=_("A call may have reached the vendor: look up by reference before sending"), verbose_name=_("needs reconcile"))
    attempts = models.PositiveIntegerField(default=0, verbose_name=_("attempts"))
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True, verbose_name=_("next attempt at"))
    leased_until = models.DateTimeField(null=True, blank=True, verbose_name=_("leased until"))
    external_id = models.CharField(max_length=200, blank=True, default="", db_index=True, verbose_name=_("external ID"))
    vendor_document_number = models.CharField(max_length=100, blank=True, default="",
                                              help_text=_("The vendor's own document number (Moon ERP, Business Central)"), verbose_name=_("vendor document number"))
    vendor_status = models.CharField(max_length=40, blank=True, default="",
                                     help_text=_("The vendor's status where it is not simply booked (a draft, awaiting "
                                               "approval), re-checked on a schedule until posted or rejected"), verbose_name=_("vendor status"))
    entry_preview = models.JSONField(null=True, blank=True, help_text=_("The AccountingEntry as built"), verbose_name=_("entry preview"))
    payload_preview = models.JSONField(null=True, blank=True, help_text=_("The vendor payload (dry run)"), verbose_name=_("payload preview"))
    mapping_version = models.CharField(max_length=64, blank=True, default="", verbose_name=_("mapping version"))
    last_error = models.TextField(blank=True, default="", verbose_name=_("last error"))
    # The last error's message code and parameters when we wrote it (exports/messages.py): shown in the
    # viewer's language; {} for the vendor's own words and rows written before.
    last_error_message = models.JSONField(default=dict, blank=True, verbose_name=_("last error (message code)"))
    warnings = models.JSONField(default=list, blank=True,
                                help_text=_("What the vendor warned about when this was last exported"), verbose_name=_("warnings"))
    posting_date = models.DateField(
        null=True, blank=True,
        help_text=_("Posted on this day because its own period was closed (the memo keeps the original date)"), verbose_name=_("posting date"))
    created_at = models.DateTimeField(auto_now_add=True, db_index=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))
    exported_at = models.DateTimeField(null=True, blank=True, verbose_name=_("exported at"))
    # Verification (exports/reconcile/verify.py): the vendor's copy read back and found as booked.
    verified_at = models.DateTimeField(null=True, blank=True, verbose_name=_("verified at"))
    vendor_hash = models.CharField(max_length=64, blank=True, default="",
                                   help_text=_("SHA-256 of the vendor's copy (canonical JSON) when verified"), verbose_name=_("vendor hash"))
    hold_released_at = models.DateTimeField(
        null=True, blank=True, help_text=_("A person released this record's hold: hold rules no longer stop it"), verbose_name=_("hold released at"))

    class Meta:
        verbose_name = _("export record")
        verbose_name_plural = _("export records")
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
        EXPORTED = "exported", _("Exported")
        RECONCILED = "reconciled", _("Found at the vendor by reference")
        RETRY = "retry", _("Transient error, will retry")
        RATE_LIMITED = "rate_limited", _("Rate limited, waiting")
        OUTCOME_UNKNOWN = "outcome_unknown", _("Outcome unknown")
        NEEDS_REVIEW = "needs_review", _("Sent to review")
        DRY_RUN = "dry_run", _("Dry run (nothing sent)")
        REDATED = "redated", _("Period closed: re-dated into the next open period")

    record = models.ForeignKey(ExportRecord, on_delete=models.CASCADE, related_name="export_attempts", verbose_name=_("record"))
    number = models.PositiveIntegerField(verbose_name=_("number"))
    started_at = models.DateTimeField(verbose_name=_("started at"))
    finished_at = models.DateTimeField(verbose_name=_("finished at"))
    outcome = models.CharField(max_length=20, choices=Outcome.choices, verbose_name=_("outcome"))
    error_class = models.CharField(max_length=60, blank=True, default="", verbose_name=_("error class"))
    error_code = models.CharField(max_length=80, blank=True, default="", verbose_name=_("error code"))
    error_message = models.TextField(blank=True, default="", verbose_name=_("error message"))
    request_id = models.CharField(max_length=200, blank=True, default="", verbose_name=_("request ID"))
    external_id = models.CharField(max_length=200, blank=True, default="", verbose_name=_("external ID"))
    duration_ms = models.PositiveIntegerField(default=0, verbose_name=_("duration (ms)"))
    worker = models.CharField(max_length=120, blank=True, default="", verbose_name=_("worker"))
    warnings = models.JSONField(default=list, blank=True, help_text=_("Vendor warnings: a person must look"), verbose_name=_("warnings"))
    notes = models.JSONField(default=list, blank=True, help_text=_("Vendor notes: informational"), verbose_name=_("notes"))

    class Meta:
        verbose_name = _("export attempt")
        verbose_name_plural = _("export attempts")
        ordering = ["record", "number"]
        indexes = [models.Index(fields=["finished_at"], name="export_attempt_finished_idx")]

    def __str__(self):
        return f"#{self.number} {self.get_outcome_display()}"

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

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="review_items", verbose_name=_("organisation"))
    record = models.ForeignKey(ExportRecord, on_delete=models.CASCADE, related_name="review_items", verbose_name=_("record"))
    reason = models.CharField(max_length=24, choices=Reason.choices, verbose_name=_("reason"))
    severity = models.CharField(_("severity"), max_length=8, choices=Severity.choices, default=Severity.MEDIUM)
    detail = models.TextField(blank=True, default="", verbose_name=_("detail"))
    detail_message = models.JSONField(default=dict, blank=True, verbose_name=_("detail (message code)"))
    context = models.JSONField(default=dict, blank=True, help_text=_("e.g. the missing mapping's kind and key"), verbose_name=_("context"))
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("owner"), null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="review_items")
    sla_due_at = models.DateTimeField(_("due by"))
    resolution = models.CharField(_("resolution"), max_length=20, choices=Resolution.choices, blank=True, default="")
    resolution_note = models.TextField(blank=True, default="", verbose_name=_("resolution note"))
    manual_external_reference = models.CharField(max_length=200, blank=True, default="", verbose_name=_("manual external reference"))
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", verbose_name=_("resolved by"))
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
        verbose_name = _("suggested coding")
        verbose_name_plural = _("suggested coding queue")

class SyncRun(models.Model):
    """A manual/historical sync for a date range: pull from Expensico, then export what is missing."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        PULLING = "pulling", _("Pulling from Expensico")
        EXPORTING = "exporting", _("Exporting")
        FINISHED = "finished", _("Finished")
        FAILED = "failed", _("Failed")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="sync_runs", verbose_name=_("organisation"))
    connection = models.ForeignKey("connectors.Connection", on_delete=models.CASCADE, related_name="sync_runs", verbose_name=_("connection"))
    pull_sync = models.ForeignKey("source.PullSync", null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="sync_runs", verbose_name=_("pull sync"))
    date_from = models.DateField(verbose_name=_("date from"))
    date_to = models.DateField(verbose_name=_("date to"))
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.QUEUED, verbose_name=_("status"))
    found = models.PositiveIntegerField(default=0, verbose_name=_("found"))
    already_there = models.PositiveIntegerField(default=0, verbose_name=_("already there"))
    exported = models.PositiveIntegerField(default=0, verbose_name=_("exported"))
    held = models.PositiveIntegerField(default=0, verbose_name=_("held"))
    failed = models.PositiveIntegerField(default=0, verbose_name=_("failed"))
    error = models.TextField(blank=True, default="", verbose_name=_("error"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("created by"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    started_at = models.DateTimeField(null=True, blank=True, verbose_name=_("started at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))

    class Meta:
        verbose_name = _("sync run")
        verbose_name_plural = _("sync runs")
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

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="pilot_scope", verbose_name=_("organisation"))
    employees = models.ManyToManyField("source.Employee", blank=True, related_name="+", verbose_name=_("employees"))
    categories = models.ManyToManyField("source.Category", blank=True, related_name="+", verbose_name=_("categories"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("pilot scope")
        verbose_name_plural = _("pilot scopes")

    def __str__(self):
        return f"Pilot scope · {self.organization}"


class ImportFailureCursor(models.Model):
    """How far the asynchronous import failures of one connection have been handled, in the
    vendor's own clock (its timestamps are compared only with each other)."""

    connection = models.OneToOneField("connectors.Connection", on_delete=models.CASCADE,
                                      related_name="import_failure_cursor", verbose_name=_("connection"))
    since = models.CharField(max_length=64, blank=True, default="",
                             help_text=_("Vendor timestamp of the newest failure handled; empty: from the start"), verbose_name=_("since"))
    polled_at = models.DateTimeField(null=True, blank=True, verbose_name=_("polled at"))

    class Meta:
        verbose_name = _("import failure cursor")
        verbose_name_plural = _("import failure cursors")

    def __str__(self):
        return f"Import failures of {self.connection_id} since {self.since or 'the start'}"


class ClosedPeriodPolicy(models.TextChoices):
    NEXT_OPEN = "next_open", _("Post on the first day of the next open period")
    HOLD = "hold", _("Hold for review")


class DuplicatePolicy(models.TextChoices):
    HOLD = "hold", _("Hold for review before export")
    FLAG = "flag", _("Export and flag for review")


class ConnectionClosePolicy(models.Model):
    """What the engine does with a document whose period is closed (at the vendor or by our own
    close). No row: hold for review."""

    connection = models.OneToOneField("connectors.Connection", on_delete=models.CASCADE,
                                      related_name="close_policy", verbose_name=_("connection"))
    closed_period = models.CharField(max_length=12, choices=ClosedPeriodPolicy.choices,
                                     default=ClosedPeriodPolicy.HOLD, verbose_name=_("closed period"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("connection close policy")
        verbose_name_plural = _("connection close policies")

    def __str__(self):
        return f"Closed periods of {self.connection_id}: {self.get_closed_period_display()}"


class DuplicateSettings(models.Model):
    """Whether a possible duplicate expense is held before export or exported and flagged.
    No row: held."""

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="duplicate_settings", verbose_name=_("organisation"))
    policy = models.CharField(max_length=8, choices=DuplicatePolicy.choices, default=DuplicatePolicy.HOLD, verbose_name=_("policy"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("duplicate settings")
        verbose_name_plural = _("duplicate settings")
        verbose_name_plural = _("duplicate settings")

    def __str__(self):
        return f"Duplicates in {self.organization}: {self.get_policy_display()}"


class MonthClose(models.Model):
    """One organisation's month: signed off by a finance admin (the month is then locked), reopened
    only by an owner with a reason. Every change is kept in its history."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        SIGNED_OFF = "signed_off", _("Signed off")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="month_closes", verbose_name=_("organisation"))
    period = models.DateField(help_text=_("The first day of the month"), verbose_name=_("period"))
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN, db_index=True, verbose_name=_("status"))
    checklist = models.JSONField(default=list, blank=True, help_text=_("The checklist as it was at sign-off"), verbose_name=_("checklist"))
    signed_off_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="+", verbose_name=_("signed off by"))
    signed_off_by_label = models.CharField(max_length=150, blank=True, default="", verbose_name=_("signed off by (name shown)"))
    signed_off_at = models.DateTimeField(null=True, blank=True, verbose_name=_("signed off at"))
    comment = models.TextField(blank=True, default="", verbose_name=_("comment"))
    reopened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", verbose_name=_("reopened by"))
    reopened_at = models.DateTimeField(null=True, blank=True, verbose_name=_("reopened at"))
    reopen_reason = models.TextField(blank=True, default="", verbose_name=_("reopen reason"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("month close")
        verbose_name_plural = _("month closes")
        ordering = ["organization", "-period"]
        constraints = [models.UniqueConstraint(fields=["organization", "period"], name="month_close_unique")]

    def __str__(self):
        return f"{self.period:%Y-%m} · {self.organization} ({self.get_status_display()})"

    @property
    def locked(self) -> bool:
        return self.status == self.Status.SIGNED_OFF


class HoldPolicy(models.Model):
    """Per organisation: above this amount a held expense needs two different approvers."""

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="hold_policy", verbose_name=_("organisation"))
    two_person_above = models.DecimalField(
        max_digits=18, decimal_places=3, null=True, blank=True,
        help_text=_("In the organisation's base currency. Blank: one approver always suffices."), verbose_name=_("two approvers above"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("hold policy")
        verbose_name_plural = _("hold policies")
        verbose_name_plural = _("hold policies")

    def __str__(self):
        return f"Hold policy · {self.organization}"


class HoldRelease(models.Model):
    """One person's approval of a held record (append-only audit): the first of two, or the one."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("organisation"))
    record = models.ForeignKey(ExportRecord, on_delete=models.CASCADE, related_name="hold_releases", verbose_name=_("record"))
    review_item = models.ForeignKey(ReviewItem, on_delete=models.CASCADE, related_name="hold_releases", verbose_name=_("review item"))
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("approver"))
    approver_label = models.CharField(max_length=150, verbose_name=_("approver (name shown)"))
    role = models.CharField(max_length=20, verbose_name=_("role"))
    step = models.PositiveSmallIntegerField(help_text=_("1: first approval; 2: the second, different approver"), verbose_name=_("step"))
    released = models.BooleanField(help_text=_("This approval released the hold"), verbose_name=_("released"))
    note = models.TextField(blank=True, default="", verbose_name=_("note"))
    amount = models.DecimalField(max_digits=18, decimal_places=3, null=True, blank=True,
                                 help_text=_("The amount in base currency the two-person check used"), verbose_name=_("amount"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("hold release")
        verbose_name_plural = _("hold releases")
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
