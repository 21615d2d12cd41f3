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
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("organisation"))
    expensico_id = models.CharField(max_length=64, verbose_name=_("Expensico ID"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        abstract = True

    def __str__(self):
        return self.expensico_id


def unique_per_org(name: str):
    return [models.UniqueConstraint(fields=["organization", "expensico_id"], name=f"source_{name}_unique")]


class Employee(MirrorModel):
    name = models.CharField(max_length=200, verbose_name=_("name"))
    email = models.EmailField(blank=True, default="", verbose_name=_("email"))

    class Meta:
        verbose_name = _("employee")
        verbose_name_plural = _("employees")
        constraints = unique_per_org("employee")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Category(MirrorModel):
    code = models.CharField(max_length=64, verbose_name=_("code"))
    name = models.CharField(max_length=200, verbose_name=_("name"))
    active = models.BooleanField(default=True, verbose_name=_("active"))

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        constraints = unique_per_org("category")
        ordering = ["code"]
        verbose_name_plural = _("categories")

    def __str__(self):
        return f"{self.code} · {self.name}"


class Card(MirrorModel):
    last4 = models.CharField(max_length=4, verbose_name=_("last four digits"))
    employee = models.ForeignKey(Employee, null=True, blank=True, on_delete=models.SET_NULL, related_name="cards", verbose_name=_("employee"))

    class Meta:
        verbose_name = _("card")
        verbose_name_plural = _("cards")
        constraints = unique_per_org("card")

    def __str__(self):
        return f"•••• {self.last4}"


class ExpenseReport(MirrorModel):
    number = models.CharField(max_length=64, db_index=True, verbose_name=_("number"))
    title = models.CharField(max_length=300, blank=True, default="", verbose_name=_("title"))
    employee = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="reports", verbose_name=_("employee"))
    approved_at = models.DateTimeField(db_index=True, verbose_name=_("approved at"))
    approved_by_id = models.CharField(max_length=64, blank=True, default="", verbose_name=_("approver's ID"))
    approved_by_name = models.CharField(max_length=200, blank=True, default="", verbose_name=_("approver's name"))
    currency = models.CharField(max_length=3, verbose_name=_("currency"))
    raw = models.JSONField(encoder=DjangoJSONEncoder, default=dict, help_text=_("The last accepted payload of this report."), verbose_name=_("raw"))

    class Meta:
        verbose_name = _("expense report")
        verbose_name_plural = _("expense reports")
        constraints = unique_per_org("expensereport")
        ordering = ["-approved_at"]
        indexes = [models.Index(fields=["organization", "approved_at"], name="report_org_approved_idx")]

    def __str__(self):
        return self.number


class Expense(MirrorModel):
    class Type(models.TextChoices):
        EXPENSE = "expense", _("Expense")
        MILEAGE = "mileage", _("Mileage")
        PER_DIEM = "per_diem", _("Per diem")
        DRIVER_HONORARIUM = "driver_honorarium", _("Driver honorarium")

    class FundingSource(models.TextChoices):
        REIMBURSABLE = "reimbursable", _("Reimbursable")
        CARD = "card", _("Card")

    class Status(models.TextChoices):
        APPROVED = "approved", _("Approved")
        CANCELLED = "cancelled", _("Cancelled")

    report = models.ForeignKey(ExpenseReport, on_delete=models.CASCADE, related_name="expenses", verbose_name=_("report"))
    version = models.PositiveIntegerField(verbose_name=_("version"))
    type = models.CharField(max_length=20, choices=Type.choices, verbose_name=_("type"))
    date = models.DateField(db_index=True, verbose_name=_("date"))
    merchant = models.CharField(max_length=300, blank=True, default="", verbose_name=_("merchant"))
    description = models.TextField(blank=True, default="", verbose_name=_("description"))
    description_ar = models.TextField(_("description (Arabic)"), blank=True, default="")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="expenses", verbose_name=_("category"))
    funding_source = models.CharField(max_length=20, choices=FundingSource.choices, verbose_name=_("funding source"))
    card = models.ForeignKey(Card, null=True, blank=True, on_delete=models.PROTECT, related_name="expenses", verbose_name=_("card"))
    amount = money(verbose_name=_("amount"))
    currency = models.CharField(max_length=3, verbose_name=_("currency"))
    exchange_rate = models.DecimalField(max_digits=18, decimal_places=8, null=True, blank=True, verbose_name=_("exchange rate"))
    tax_code = models.CharField(max_length=32, blank=True, default="", verbose_name=_("tax code"))
    tax_rate = models.DecimalField(max_digits=9, decimal_places=4, null=True, blank=True, verbose_name=_("tax rate"))
    tax_amount = money(null=True, blank=True, verbose_name=_("tax amount"))
    tax_inclusive = models.BooleanField(null=True, blank=True, verbose_name=_("tax inclusive"))
    dimensions = models.JSONField(encoder=DjangoJSONEncoder, default=dict, blank=True, verbose_name=_("dimensions"))
    details = models.JSONField(encoder=DjangoJSONEncoder, default=dict, blank=True, verbose_name=_("details"))
    custom_fields = models.JSONField(encoder=DjangoJSONEncoder, default=dict, blank=True, verbose_name=_("custom fields"))
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.APPROVED, verbose_name=_("status"))
    cancelled_at = models.DateTimeField(null=True, blank=True, verbose_name=_("cancelled at"))
    cancel_reason = models.TextField(blank=True, default="", verbose_name=_("cancel reason"))
    employee = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="expenses", verbose_name=_("employee"))

    class Meta:
        verbose_name = _("expense")
        verbose_name_plural = _("expenses")
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

    expense = models.ForeignKey(Expense, on_delete=models.CASCADE, related_name="receipts", verbose_name=_("expense"))
    expensico_id = models.CharField(max_length=64, verbose_name=_("Expensico ID"))
    filename = models.CharField(max_length=255, verbose_name=_("filename"))
    content_type = models.CharField(max_length=100, verbose_name=_("content type"))
    size = models.PositiveBigIntegerField(verbose_name=_("size"))
    sha256 = models.CharField(max_length=64, verbose_name=_("SHA-256"))
    url = models.URLField(max_length=1000, verbose_name=_("URL"))
    file = models.FileField(upload_to="receipts/%Y/%m/", blank=True, verbose_name=_("file"))
    fetched_at = models.DateTimeField(null=True, blank=True, verbose_name=_("fetched at"))
    verified = models.BooleanField(default=False, verbose_name=_("verified"))
    fetch_error = models.CharField(max_length=300, blank=True, default="", verbose_name=_("fetch error"))

    class Meta:
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")
        constraints = [models.UniqueConstraint(fields=["expense", "expensico_id"], name="source_receipt_unique")]

    def __str__(self):
        return self.filename


class ExpenseCancellation(MirrorModel):
    """Every `expense.cancelled` received, kept even when the expense is not mirrored yet, so a
    cancellation that overtakes its approval still wins when the approval arrives."""

    expense_expensico_id = models.CharField(max_length=64, db_index=True, verbose_name=_("expense's Expensico ID"))
    report_expensico_id = models.CharField(max_length=64, verbose_name=_("report's Expensico ID"))
    version = models.PositiveIntegerField(verbose_name=_("version"))
    reason = models.TextField(blank=True, default="", verbose_name=_("reason"))
    cancelled_at = models.DateTimeField(verbose_name=_("cancelled at"))

    class Meta:
        verbose_name = _("expense cancellation")
        verbose_name_plural = _("expense cancellations")
        constraints = [models.UniqueConstraint(fields=["organization", "expense_expensico_id", "version"],
                                               name="source_cancellation_unique")]


class CardFunding(MirrorModel):
    class Direction(models.TextChoices):
        IN = "in", _("Funded (in)")
        OUT = "out", _("Unloaded (out)")

    card = models.ForeignKey(Card, on_delete=models.PROTECT, related_name="fundings", verbose_name=_("card"))
    employee = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="card_fundings", verbose_name=_("employee"))
    direction = models.CharField(max_length=3, choices=Direction.choices, verbose_name=_("direction"))
    amount = money(help_text=_("Always positive; the direction says which way it moved."), verbose_name=_("amount"))
    currency = models.CharField(max_length=3, verbose_name=_("currency"))
    date = models.DateField(db_index=True, verbose_name=_("date"))
    bank_reference = models.CharField(max_length=100, blank=True, default="", verbose_name=_("bank reference"))
    description = models.TextField(blank=True, default="", verbose_name=_("description"))

    class Meta:
        verbose_name = _("card funding")
        verbose_name_plural = _("card fundings")
        constraints = unique_per_org("cardfunding")
        ordering = ["-date", "expensico_id"]


class Reimbursement(MirrorModel):
    employee = models.ForeignKey(Employee, on_delete=models.PROTECT, related_name="reimbursements", verbose_name=_("employee"))
    reports = models.ManyToManyField(ExpenseReport, blank=True, related_name="reimbursements", verbose_name=_("reports"))
    report_ids = models.JSONField(default=list, help_text=_("Expensico report ids as sent (some may not be mirrored)."), verbose_name=_("report IDs"))
    amount = money(verbose_name=_("amount"))
    currency = models.CharField(max_length=3, verbose_name=_("currency"))
    date = models.DateField(db_index=True, verbose_name=_("date"))
    bank_reference = models.CharField(max_length=100, blank=True, default="", verbose_name=_("bank reference"))
    description = models.TextField(blank=True, default="", verbose_name=_("description"))

    class Meta:
        verbose_name = _("reimbursement")
        verbose_name_plural = _("reimbursements")
        constraints = unique_per_org("reimbursement")
        ordering = ["-date", "expensico_id"]


class BankStatementLine(MirrorModel):
    bank_account_id = models.CharField(max_length=64, verbose_name=_("bank account ID"))
    bank_account_name = models.CharField(max_length=200, blank=True, default="", verbose_name=_("bank account name"))
    currency = models.CharField(max_length=3, verbose_name=_("currency"))
    iban = models.CharField(max_length=34, blank=True, default="", verbose_name=_("IBAN"))
    date = models.DateField(db_index=True, verbose_name=_("date"))
    amount = money(help_text=_("Signed: positive into the account, negative out of it."), verbose_name=_("amount"))
    balance = money(verbose_name=_("balance"))
    description = models.TextField(blank=True, default="", verbose_name=_("description"))
    reference = models.CharField(max_length=100, blank=True, default="", verbose_name=_("reference"))
    bank_reference = models.CharField(max_length=100, blank=True, default="", verbose_name=_("bank reference"))

    class Meta:
        verbose_name = _("bank statement line")
        verbose_name_plural = _("bank statement lines")
        constraints = unique_per_org("bankstatementline")
        ordering = ["bank_account_id", "date", "expensico_id"]


class WebhookDelivery(models.Model):
    class Outcome(models.TextChoices):
        ACCEPTED = "accepted", _("Accepted")
        DUPLICATE = "duplicate", _("Duplicate")
        REJECTED = "rejected", _("Rejected")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("organisation"))
    webhook_id = models.CharField(max_length=200, verbose_name=_("webhook ID"))
    event_type = models.CharField(max_length=64, blank=True, default="", verbose_name=_("event type"))
    received_at = models.DateTimeField(auto_now_add=True, db_index=True, verbose_name=_("received at"))
    body = models.TextField(verbose_name=_("body"))
    headers = models.JSONField(default=dict, verbose_name=_("headers"))
    outcome = models.CharField(max_length=10, choices=Outcome.choices, verbose_name=_("outcome"))
    reason = models.TextField(blank=True, default="", verbose_name=_("reason"))
    signature_valid = models.BooleanField(default=False, verbose_name=_("signature valid"))
    decisions = models.JSONField(encoder=DjangoJSONEncoder, default=list, blank=True,
                                 help_text=_("What the mirror did with each document (e.g. stale versions ignored)."), verbose_name=_("decisions"))

    class Meta:
        # Only one *accepted* delivery per id: that is the idempotency guarantee. Duplicates and
        # rejected attempts are logged as further rows for support.
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [models.UniqueConstraint(fields=["organization", "webhook_id"],
                                               condition=Q(outcome="accepted"),
                                               name="source_delivery_accepted_once")]
        indexes = [models.Index(fields=["organization", "webhook_id"]),
                   models.Index(fields=["organization", "received_at"], name="delivery_org_received_idx")]
        ordering = ["-received_at"]
        verbose_name_plural = _("webhook deliveries")

    def __str__(self):
        return f"{self.webhook_id} · {self.outcome}"


class PullSync(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Succeeded")
        FAILED = "failed", _("Failed")

    STREAMS = ["categories", "expense_reports", "card_fundings", "reimbursements", "bank_statement_lines"]

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+", verbose_name=_("organisation"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    started_at = models.DateTimeField(null=True, blank=True, verbose_name=_("started at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))
    date_from = models.DateField(verbose_name=_("date from"))
    date_to = models.DateField(verbose_name=_("date to"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, verbose_name=_("status"))
    cursor = models.JSONField(default=dict, blank=True, help_text=_("Per stream: the next cursor, or done."), verbose_name=_("cursor"))
    counts = models.JSONField(default=dict, blank=True, verbose_name=_("counts"))
    error = models.TextField(blank=True, default="", verbose_name=_("error"))

    class Meta:
        verbose_name = _("pull sync")
        verbose_name_plural = _("pull syncs")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.date_from}…{self.date_to} · {self.status}"

    @property
    def streams_done(self) -> int:
        return sum(1 for s in self.STREAMS if self.cursor.get(s, {}).get("done"))
