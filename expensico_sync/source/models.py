"""The source mirror: Expensico's documents as we last accepted them, plus the intake logs.

Field names are a contract with mappings/ and exports/ (see the issue); keep them stable.
Money is DecimalField(18, 3) so 3-decimal currencies (KWD, BHD, OMR) are stored exactly.
"""

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from expensico_sync.core.models import Organization


def money(**kwargs):
    return models.DecimalField(max_digits=18, decimal_places=3, **kwargs)


class MirrorModel(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    expensico_id = models.CharField(max_length=64)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    def __str__(self):
        return self.expensico_id


def unique_per_org(name: str):
    return [models.UniqueConstraint(fields=["organization", "expensico_id"], name=f"source_{name}_unique")]


class Employee(MirrorModel):
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True, default="")

    class Meta:
        constraints = unique_per_org("employee")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Category(MirrorModel):
    code = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    active = models.BooleanField(default=True)

    class Meta:
        constraints = unique_per_org("category")
        ordering = ["code"]
        verbose_name_plural = "categories"

    def __str__(self):
        return f"{self.code} · {self.name}"


class Card(MirrorModel):
    last4 = models.CharField(max_length=4)
    employee = models.ForeignKey(Employee, null=True, blank=True, on_delete=models.SET_NULL, related_name="cards")

    class Meta:
        constraints = unique_per_org("card")

    def __str__(self):
        return f"•••• {self.last4}"


class ExpenseReport(MirrorModel):
    number = models.CharField(max_length=64, db_index=True)
    title = models.CharField(max_length=300, blank=True, default="")
    employee = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="reports")
    approved_at = models.DateTimeField(db_index=True)
    approved_by_id = models.CharField(max_length=64, blank=True, default="")
    approved_by_name = models.CharField(max_length=200, blank=True, default="")
    currency = models.CharField(max_length=3)
    raw = models.JSONField(encoder=DjangoJSONEncoder, default=dict, help_text="The last accepted payload of this report.")

    class Meta:
        constraints = unique_per_org("expensereport")
        ordering = ["-approved_at"]
        indexes = [models.Index(fields=["organization", "approved_at"], name="report_org_approved_idx")]

    def __str__(self):
        return self.number


class Expense(MirrorModel):
    class Type(models.TextChoices):
        EXPENSE = "expense", "Expense"
        MILEAGE = "mileage", "Mileage"
        PER_DIEM = "per_diem", "Per diem"
        DRIVER_HONORARIUM = "driver_honorarium", "Driver honorarium"

    class FundingSource(models.TextChoices):
        REIMBURSABLE = "reimbursable", "Reimbursable"
        CARD = "card", "Card"

    class Status(models.TextChoices):
        APPROVED = "approved", "Approved"
        CANCELLED = "cancelled", "Cancelled"

    report = models.ForeignKey(ExpenseReport, on_delete=models.CASCADE, related_name="expenses")
    version = models.PositiveIntegerField()
    type = models.CharField(max_length=20, choices=Type.choices)
    date = models.DateField(db_index=True)
    merchant = models.CharField(max_length=300, blank=True, default="")
    description = models.TextField(blank=True, default="")
    description_ar = models.TextField(_("description (Arabic)"), blank=True, default="")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="expenses")
    funding_source = models.CharField(max_length=20, choices=FundingSource.choices)
    card = models.ForeignKey(Card, null=True, blank=True, on_delete=models.PROTECT, related_name="expenses")
    amount = money()
    currency = models.CharField(max_length=3)
    exchange_rate = models.DecimalField(max_digits=18, decimal_places=8, null=True, blank=True)
    tax_code = models.CharField(max_length=32, blank=True, default="")
    tax_rate = models.DecimalField(max_digits=9, decimal_places=4, null=True, blank=True)
    tax_amount = money(null=True, blank=True)
    tax_inclusive = models.BooleanField(null=True, blank=True)
    dimensions = models.JSONField(encoder=DjangoJSONEncoder, default=dict, blank=True)
    details = models.JSONField(encoder=DjangoJSONEncoder, default=dict, blank=True)
    custom_fields = models.JSONField(encoder=DjangoJSONEncoder, default=dict, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.APPROVED)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.TextField(blank=True, default="")
    employee = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="expenses")

    class Meta:
        constraints = unique_per_org("expense")
        ordering = ["report", "date", "expensico_id"]
        # The changelist's order and sortable columns; organisation first for members.
        indexes = [models.Index(fields=["organization", "date", "id"], name="expense_org_date_idx"),
                   models.Index(fields=["date", "id"], name="expense_date_id_idx"),
                   models.Index(fields=["organization", "amount", "id"], name="expense_org_amount_idx"),
                   models.Index(fields=["amount", "id"], name="expense_amount_idx"),
                   models.Index(fields=["expensico_id"], name="expense_expensico_id_idx")]

    @property
    def has_receipts(self) -> bool:
        return self.receipts.exists()


class Receipt(models.Model):
    ORG_PATH = "expense__organization"

    expense = models.ForeignKey(Expense, on_delete=models.CASCADE, related_name="receipts")
    expensico_id = models.CharField(max_length=64)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    url = models.URLField(max_length=1000)
    file = models.FileField(upload_to="receipts/%Y/%m/", blank=True)
    fetched_at = models.DateTimeField(null=True, blank=True)
    verified = models.BooleanField(default=False)
    fetch_error = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["expense", "expensico_id"], name="source_receipt_unique")]

    def __str__(self):
        return self.filename


class ExpenseCancellation(MirrorModel):
    """Every `expense.cancelled` received, kept even when the expense is not mirrored yet, so a
    cancellation that overtakes its approval still wins when the approval arrives."""

    expense_expensico_id = models.CharField(max_length=64, db_index=True)
    report_expensico_id = models.CharField(max_length=64)
    version = models.PositiveIntegerField()
    reason = models.TextField(blank=True, default="")
    cancelled_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "expense_expensico_id", "version"],
                                               name="source_cancellation_unique")]


class CardFunding(MirrorModel):
    class Direction(models.TextChoices):
        IN = "in", "Funded (in)"
        OUT = "out", "Unloaded (out)"

    card = models.ForeignKey(Card, on_delete=models.PROTECT, related_name="fundings")
    employee = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="card_fundings")
    direction = models.CharField(max_length=3, choices=Direction.choices)
    amount = money(help_text="Always positive; the direction says which way it moved.")
    currency = models.CharField(max_length=3)
    date = models.DateField(db_index=True)
    bank_reference = models.CharField(max_length=100, blank=True, default="")
    description = models.TextField(blank=True, default="")

    class Meta:
        constraints = unique_per_org("cardfunding")
        ordering = ["-date", "expensico_id"]


class Reimbursement(MirrorModel):
    employee = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="reimbursements")
    reports = models.ManyToManyField(ExpenseReport, blank=True, related_name="reimbursements")
    report_ids = models.JSONField(default=list, help_text="Expensico report ids as sent (some may not be mirrored).")
    amount = money()
    currency = models.CharField(max_length=3)
    date = models.DateField(db_index=True)
    bank_reference = models.CharField(max_length=100, blank=True, default="")
    description = models.TextField(blank=True, default="")

    class Meta:
        constraints = unique_per_org("reimbursement")
        ordering = ["-date", "expensico_id"]


class BankStatementLine(MirrorModel):
    bank_account_id = models.CharField(max_length=64)
    bank_account_name = models.CharField(max_length=200, blank=True, default="")
    currency = models.CharField(max_length=3)
    iban = models.CharField(max_length=34, blank=True, default="")
    date = models.DateField(db_index=True)
    amount = money(help_text="Signed: positive into the account, negative out of it.")
    balance = money()
    description = models.TextField(blank=True, default="")
    reference = models.CharField(max_length=100, blank=True, default="")
    bank_reference = models.CharField(max_length=100, blank=True, default="")

    class Meta:
        constraints = unique_per_org("bankstatementline")
        ordering = ["bank_account_id", "date", "expensico_id"]


class WebhookDelivery(models.Model):
    class Outcome(models.TextChoices):
        ACCEPTED = "accepted", "Accepted"
        DUPLICATE = "duplicate", "Duplicate"
        REJECTED = "rejected", "Rejected"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    webhook_id = models.CharField(max_length=200)
    event_type = models.CharField(max_length=64, blank=True, default="")
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    body = models.TextField()
    headers = models.JSONField(default=dict)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    reason = models.TextField(blank=True, default="")
    signature_valid = models.BooleanField(default=False)
    decisions = models.JSONField(encoder=DjangoJSONEncoder, default=list, blank=True,
                                 help_text="What the mirror did with each document (e.g. stale versions ignored).")

    class Meta:
        # Only one *accepted* delivery per id: that is the idempotency guarantee. Duplicates and
        # rejected attempts are logged as further rows for support.
        constraints = [models.UniqueConstraint(fields=["organization", "webhook_id"],
                                               condition=Q(outcome="accepted"),
                                               name="source_delivery_accepted_once")]
        indexes = [models.Index(fields=["organization", "webhook_id"]),
                   models.Index(fields=["organization", "received_at"], name="delivery_org_received_idx")]
        ordering = ["-received_at"]
        verbose_name_plural = "webhook deliveries"

    def __str__(self):
        return f"{self.webhook_id} · {self.outcome}"


class PullSync(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    STREAMS = ["categories", "expense_reports", "card_fundings", "reimbursements", "bank_statement_lines"]

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    date_from = models.DateField()
    date_to = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    cursor = models.JSONField(default=dict, blank=True, help_text="Per stream: the next cursor, or done.")
    counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.date_from}…{self.date_to} · {self.status}"

    @property
    def streams_done(self) -> int:
        return sum(1 for s in self.STREAMS if self.cursor.get(s, {}).get("done"))
