"""A reconciliation is stored whole (rows, differences, inputs), so last month's result never
changes when today's data does. Imported by exports/models.py so Django finds the models."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from connectors.money import round_money
from expensico_sync.core.models import Organization


def money(**kwargs):
    return models.DecimalField(max_digits=18, decimal_places=3, **kwargs)


class Reconciliation(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        FINISHED = "finished", _("Finished")
        FAILED = "failed", _("Failed")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="reconciliations", verbose_name=_("organisation"))
    connection = models.ForeignKey("connectors.Connection", on_delete=models.CASCADE,
                                   related_name="reconciliations", verbose_name=_("connection"))
    period = models.DateField(help_text=_("First day of the month reconciled"), verbose_name=_("period"))
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, verbose_name=_("status"))
    inputs = models.JSONField(default=dict, blank=True,
                              help_text=_("What the run read: counts, accounts, vendor documents and their hashes"), verbose_name=_("inputs"))
    requests_estimate = models.PositiveIntegerField(null=True, blank=True,
                                                    help_text=_("Vendor requests the run was expected to cost"), verbose_name=_("requests estimate"))
    requests_used = models.PositiveIntegerField(default=0, help_text=_("Vendor requests the run cost"), verbose_name=_("requests used"))
    error = models.TextField(blank=True, default="", verbose_name=_("error"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", verbose_name=_("created by"))
    created_by_label = models.CharField(max_length=150, blank=True, default="", verbose_name=_("created by (name shown)"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    started_at = models.DateTimeField(null=True, blank=True, verbose_name=_("started at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))

    class Meta:
        verbose_name = _("reconciliation")
        verbose_name_plural = _("reconciliations")
        ordering = ["-id"]
        indexes = [models.Index(fields=["connection", "period", "id"], name="recon_conn_period_idx")]

    def __str__(self):
        return f"Reconciliation {self.period:%Y-%m} · {self.connection_id} ({self.get_status_display()})"


class ReconciliationRow(models.Model):
    """One account × currency: what Expensico says, what we booked, what the vendor's ledger holds,
    each as net debit − credit on the account (a liability's balance is negative)."""

    class Account(models.TextChoices):
        EMPLOYEES_BALANCE = "employees_balance", _("Employees Balance")
        EMPLOYEE_CLAIMS = "employee_claims", _("Employee Claims")
        FUNDING_BANK = "funding_bank", _("Funding bank")
        EXPENSE = "expense", _("Expenses by account")

    reconciliation = models.ForeignKey(Reconciliation, on_delete=models.CASCADE, related_name="rows", verbose_name=_("reconciliation"))
    account_kind = models.CharField(max_length=20, choices=Account.choices, verbose_name=_("account kind"))
    account = models.CharField(max_length=200, help_text=_("The vendor's account id"), verbose_name=_("account"))
    currency = models.CharField(max_length=3, verbose_name=_("currency"))
    expensico = money(verbose_name=_("Expensico"))
    booked = money(verbose_name=_("booked"))
    vendor = money(verbose_name=_("vendor"))
    difference = money(help_text=_("vendor − expensico"), verbose_name=_("difference"))
    vendor_source = models.CharField(max_length=10, default="lines",
                                     help_text=_("ledger: the vendor's balance query; lines: read-back lines summed"), verbose_name=_("vendor source"))

    class Meta:
        verbose_name = _("reconciliation row")
        verbose_name_plural = _("reconciliation rows")
        ordering = ["reconciliation", "id"]

    def __str__(self):
        return f"{self.get_account_kind_display()} {self.account} {self.currency}"

    def minor(self, name: str):
        return round_money(getattr(self, name), self.currency)


class ReconciliationDifference(models.Model):
    """One document behind a difference; explained with a note (who, when) when it is expected."""

    class Kind(models.TextChoices):
        MISSING_IN_VENDOR = "missing_in_vendor", _("Missing in the vendor")
        EXTRA_IN_VENDOR = "extra_in_vendor", _("Extra in the vendor")
        AMOUNT_DIFFERS = "amount_differs", _("Amount differs")
        NOT_EXPORTED = "not_exported", _("Not yet exported")
        HELD_IN_REVIEW = "held_in_review", _("Held in review")
        UNMATCHED_STATEMENT_LINE = "unmatched_statement_line", _("Statement line without a booking")

    reconciliation = models.ForeignKey(Reconciliation, on_delete=models.CASCADE, related_name="differences", verbose_name=_("reconciliation"))
    kind = models.CharField(max_length=24, choices=Kind.choices, verbose_name=_("kind"))
    currency = models.CharField(max_length=3, verbose_name=_("currency"))
    reference = models.CharField(max_length=160, blank=True, default="", verbose_name=_("reference"))
    external_id = models.CharField(max_length=200, blank=True, default="", verbose_name=_("external ID"))
    record = models.ForeignKey("exports.ExportRecord", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="+", verbose_name=_("record"))
    source_kind = models.CharField(max_length=20, blank=True, default="",
                                   help_text=_("expense, card_funding, reimbursement, statement_line"), verbose_name=_("source kind"))
    source_id = models.CharField(max_length=120, blank=True, default="", help_text=_("Expensico id"), verbose_name=_("source ID"))
    expected = money(null=True, blank=True, help_text=_("Ours (gross)"), verbose_name=_("expected"))
    actual = money(null=True, blank=True, help_text=_("The vendor's (gross)"), verbose_name=_("actual"))
    detail = models.TextField(blank=True, default="", verbose_name=_("detail"))
    detail_message = models.JSONField(default=dict, blank=True, verbose_name=_("detail (message code)"))
    explanation = models.TextField(blank=True, default="", verbose_name=_("explanation"))
    explained_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+", verbose_name=_("explained by"))
    explained_by_label = models.CharField(max_length=150, blank=True, default="", verbose_name=_("explained by (name shown)"))
    explained_at = models.DateTimeField(null=True, blank=True, verbose_name=_("explained at"))

    class Meta:
        verbose_name = _("reconciliation difference")
        verbose_name_plural = _("reconciliation differences")
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
