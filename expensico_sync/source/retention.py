"""Retention policies for the Expensico mirror: webhook bodies, receipt files and personal data.
Amounts, dates, categories, references, ids and receipts' SHA-256 always stay."""

from django.db.models import Exists, F, OuterRef, Value
from django.db.models.functions import Concat

from expensico_sync.retention.registry import ANONYMISE, CLEAR, DELETE, register_policy

from .models import CardFunding, Employee, Expense, ExpenseReport, Receipt, Reimbursement, WebhookDelivery

ANONYMISED = "(anonymised)"


def _webhook_rows(organization, cutoff):
    return WebhookDelivery.objects.filter(organization=organization, received_at__lt=cutoff).exclude(body="")


register_policy("webhook.bodies", "Webhook raw bodies and headers", action=CLEAR, default_months=6,
                rows=_webhook_rows, apply=lambda qs: qs.update(body="", headers={}),
                keeps="event type, outcome, signature check and the decisions taken")


def _receipt_rows(organization, cutoff):
    return Receipt.objects.filter(expense__organization=organization, expense__date__lt=cutoff.date()).exclude(file="")


def _delete_files(qs) -> int:
    done = 0
    for receipt in qs.iterator():
        receipt.file.delete(save=False)
        Receipt.objects.filter(pk=receipt.pk).update(file="")
        done += 1
    return done


register_policy("receipts.files", "Receipt files", action=DELETE, default_months=84, rows=_receipt_rows,
                apply=_delete_files, keeps="file name, size and SHA-256 (the evidence pack still lists them)")


def _personal_rows(organization, cutoff):
    return Expense.objects.filter(organization=organization, date__lt=cutoff.date()).exclude(merchant=ANONYMISED)


def _anonymise(qs) -> int:
    expenses = list(qs.values_list("pk", "organization_id", "date", "employee_id"))
    if not expenses:
        return 0
    ids = [row[0] for row in expenses]
    org_id, latest = expenses[0][1], max(row[2] for row in expenses)
    changed = Expense.objects.filter(pk__in=ids).update(merchant=ANONYMISED, description="", description_ar="",
                                                        details={}, custom_fields={})
    ExpenseReport.objects.filter(expenses__pk__in=ids).update(title="", approved_by_name="", raw={})
    for model in (CardFunding, Reimbursement):
        model.objects.filter(organization_id=org_id, date__lte=latest).update(description="")
    # An employee is anonymised once nothing of theirs is newer than what was just anonymised.
    newer = Expense.objects.filter(employee=OuterRef("pk"), date__gt=latest)
    Employee.objects.filter(pk__in={row[3] for row in expenses}).filter(~Exists(newer)).update(
        name=Concat(Value("Employee "), F("expensico_id")), email="")
    return changed


register_policy("source.personal_data", "Personal data in expenses, reports and employees", action=ANONYMISE,
                default_months=84, rows=_personal_rows, apply=_anonymise,
                keeps="amounts, currencies, dates, categories, tax, dimensions, references and ids; names, "
                      "emails, merchants and free text are removed")
