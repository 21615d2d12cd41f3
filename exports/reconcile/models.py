"""A reconciliation is stored whole (rows, differences, inputs), so last month's result never
changes when today's data does. Imported by exports/models.py so Django finds the models."""

from django.conf import settings
from django.db import models

from connectors.money import round_money
from expensico_sync.core.models import Organization


def money(**kwargs):
    return models.DecimalField(max_digits=18, decimal_places=3, **kwargs)


class Reconciliation(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        FINISHED = "finished", "Finished"
        FAILED = "failed", "Failed"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="reconciliations")
    connection = models.ForeignKey("connectors.Connection", on_delete=models.CASCADE,
                                   related_name="reconciliations")
    period = models.DateField(help_text="First day of the month reconciled")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    inputs = models.JSONField(default=dict, blank=True,
                              help_text="What the run read: counts, accounts, vendor documents and their hashes")
    requests_estimate = models.PositiveIntegerField(null=True, blank=True,
                                                    help_text="Vendor requests the run was expected to cost")
    requests_used = models.PositiveIntegerField(default=0, help_text="Vendor requests the run cost")
    error = models.TextField(blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_by_label = models.CharField(max_length=150, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["connection", "period", "id"], name="recon_conn_period_idx")]

    def __str__(self):
        return f"Reconciliation {self.period:%Y-%m} · {self.connection_id} ({self.get_status_display()})"


class ReconciliationRow(models.Model):
    """One account × currency: what Expensico says, what we booked, what the vendor's ledger holds,
    each as net debit − credit on the account (a liability's balance is negative)."""

    class Account(models.TextChoices):
        EMPLOYEES_BALANCE = "employees_balance", "Employees Balance"
        EMPLOYEE_CLAIMS = "employee_claims", "Employee Claims"
        FUNDING_BANK = "funding_bank", "Funding bank"
        EXPENSE = "expense", "Expenses by account"

    reconciliation = models.ForeignKey(Reconciliation, on_delete=models.CASCADE, related_name="rows")
    account_kind = models.CharField(max_length=20, choices=Account.choices)
    account = models.CharField(max_length=200, help_text="The vendor's account id")
    currency = models.CharField(max_length=3)
    expensico = money()
    booked = money()
    vendor = money()
    difference = money(help_text="vendor − expensico")
    vendor_source = models.CharField(max_length=10, default="lines",
                                     help_text="ledger: the vendor's balance query; lines: read-back lines summed")

    class Meta:
        ordering = ["reconciliation", "id"]

    def __str__(self):
        return f"{self.get_account_kind_display()} {self.account} {self.currency}"

    def minor(self, name: str):
        return round_money(getattr(self, name), self.currency)


class ReconciliationDifference(models.Model):
    """One document behind a difference; explained with a note (who, when) when it is expected."""

    class Kind(models.TextChoices):
        MISSING_IN_VENDOR = "missing_in_vendor", "Missing in the vendor"
        EXTRA_IN_VENDOR = "extra_in_vendor", "Extra in the vendor"
        AMOUNT_DIFFERS = "amount_differs", "Amount differs"
        NOT_EXPORTED = "not_exported", "Not yet exported"
        HELD_IN_REVIEW = "held_in_review", "Held in review"
        UNMATCHED_STATEMENT_LINE = "unmatched_statement_line", "Statement line without a booking"

    reconciliation = models.ForeignKey(Reconciliation, on_delete=models.CASCADE, related_name="differences")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    currency = models.CharField(max_length=3)
    reference = models.CharField(max_length=160, blank=True, default="")
    external_id = models.CharField(max_length=200, blank=True, default="")
    record = models.ForeignKey("exports.ExportRecord", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+")
    source_kind = models.CharField(max_length=20, blank=True, default="",
                                   help_text="expense, card_funding, reimbursement, statement_line")
    source_id = models.CharField(max_length=120, blank=True, default="", help_text="Expensico id")
    expected = money(null=True, blank=True, help_text="Ours (gross)")
    actual = money(null=True, blank=True, help_text="The vendor's (gross)")
    detail = models.TextField(blank=True, default="")
    explanation = models.TextField(blank=True, default="")
    explained_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    explained_by_label = models.CharField(max_length=150, blank=True, default="")
    explained_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["reconciliation", "kind", "id"]
        # A run's differences in the list's own order (thousands per run at a year of data).
        indexes = [models.Index(fields=["reconciliation", "kind", "id"], name="recon_diff_run_kind_idx")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.reference or self.source_id or self.external_id}"

    def minor(self, name: str):
        value = getattr(self, name)
        return None if value is None else round_money(value, self.currency)

    @property
    def explained(self) -> bool:
        return self.explained_at is not None
