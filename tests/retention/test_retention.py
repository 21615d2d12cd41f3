"""Retention: a dry run changes nothing; applying removes bodies, files and personal data past
their period and keeps amounts, references and hashes; a legal hold keeps everything."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.utils import timezone

from expensico_sync.retention.models import RetentionSettings
from expensico_sync.retention.services import apply, plan
from expensico_sync.source.models import Employee, Expense, Receipt, WebhookDelivery
from exports.models import ExportRecord
from tests.core.factories import make_org
from tests.exports.factories import make_record
from tests.source.factories import expense_payload, make_report, report_payload

OLD, NEW = "2017-03-01", None


@pytest.fixture
def org(db, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    org = make_org("keep")
    old = make_report(org, report_payload(expenses=[expense_payload(date=OLD, merchant="مطعم البيك")],
                                          employee={"id": "emp_old", "name": "Old Timer", "email": "old@x.com"}))
    make_report(org, report_payload(expenses=[expense_payload(date=timezone.localdate().isoformat())],
                                    employee={"id": "emp_new", "name": "Current", "email": "now@x.com"}))
    expense = old.expenses.get()
    receipt = Receipt.objects.create(expense=expense, expensico_id="rc_1", filename="bill.pdf",
                                     content_type="application/pdf", size=4, sha256="ab" * 32,
                                     url="https://api.expensico.com/r/1")
    receipt.file.save("bill.pdf", ContentFile(b"%PDF"))
    WebhookDelivery.objects.create(organization=org, webhook_id="msg_old", body='{"employee": "Old Timer"}',
                                   headers={"webhook-id": "msg_old"}, outcome="accepted", signature_valid=True)
    WebhookDelivery.objects.filter(webhook_id="msg_old").update(received_at=timezone.now() - timedelta(days=400))
    WebhookDelivery.objects.create(organization=org, webhook_id="msg_new", body="{}", outcome="accepted",
                                   signature_valid=True)
    make_record(org, expense=expense, document_date=expense.date, entry_preview={
        "description": "Lunch with Old Timer", "employee": "Old Timer", "merchant": "مطعم البيك",
        "lines": [{"account": "6100", "debit": "115.00", "description": "Lunch"}], "reference": "EXPENSICO-x"})
    return org


def test_dry_run_counts_and_changes_nothing(org):
    due = {s.policy.key: s.rows for s in apply(org, dry_run=True)}
    assert due == {"connectors.call_log": 0, "exports.previews": 1, "exports.status_log": 0,
                   "receipts.files": 1,
                   "source.personal_data": 1, "webhook.bodies": 1}
    assert Expense.objects.filter(merchant="مطعم البيك").exists()
    assert WebhookDelivery.objects.get(webhook_id="msg_old").body


def test_apply_removes_personal_data_and_keeps_the_books(org):
    steps = {s.policy.key: s.applied for s in apply(org)}
    assert steps["source.personal_data"] == 1 and steps["webhook.bodies"] == 1
    old = Expense.objects.get(date=OLD)
    assert (old.merchant, old.description, old.description_ar) == ("(anonymised)", "", "")
    assert old.amount == Decimal("115.000") and old.tax_amount == Decimal("15.00")     # the books stay
    assert Employee.objects.get(expensico_id="emp_old").name == "Employee emp_old"
    assert Employee.objects.get(expensico_id="emp_old").email == ""
    assert Employee.objects.get(expensico_id="emp_new").name == "Current"            # still active
    assert Expense.objects.exclude(date=OLD).get().merchant == "Jarir"
    receipt = Receipt.objects.get()
    assert not receipt.file and receipt.sha256 == "ab" * 32
    assert WebhookDelivery.objects.get(webhook_id="msg_old").body == ""
    assert WebhookDelivery.objects.get(webhook_id="msg_new").body == "{}"
    preview = ExportRecord.objects.get().entry_preview
    assert "Old Timer" not in str(preview) and "مطعم" not in str(preview)
    assert preview["lines"][0]["debit"] == "115.00" and preview["reference"] == "EXPENSICO-x"
    assert {s.rows for s in plan(org)} == {0}                                          # nothing left to do


def test_legal_hold_keeps_everything_and_needs_a_reason(org):
    hold = RetentionSettings(organization=org, legal_hold=True)
    with pytest.raises(ValidationError) as err:
        hold.full_clean()
    assert "legal_hold_reason" in err.value.message_dict
    hold.legal_hold_reason = "Tax audit 2017–2019"
    hold.full_clean()
    hold.save()
    assert all(s.held and s.applied == 0 for s in apply(org))
    assert Expense.objects.filter(merchant="مطعم البيك").exists()


def test_periods_are_validated_by_name(org):
    settings = RetentionSettings(organization=org, months={"webhook.bodies": 0})
    with pytest.raises(ValidationError, match="webhook.bodies: months must be"):
        settings.full_clean()
    settings.months = {"nope": 3}
    with pytest.raises(ValidationError, match="'nope' is not a retention policy"):
        settings.full_clean()
    settings.months = {"webhook.bodies": 24}
    settings.full_clean()
    settings.save()
    assert {s.policy.key: s.rows for s in plan(org)}["webhook.bodies"] == 0        # kept longer now


def test_command_dry_run_prints_the_table(org, capsys):
    call_command("retention_apply", "--dry-run", "--org", "keep")
    out = capsys.readouterr().out
    assert "source.personal_data" in out and "would go" in out
    assert Expense.objects.filter(merchant="مطعم البيك").exists()
