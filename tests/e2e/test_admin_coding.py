"""In a real browser: the coding-rules screen, "test this rule", applying it after a confirmation
that shows how many expenses and how much; a hold approved from the review queue; the model page.
Screenshots go to test-artifacts/."""

import os
from decimal import Decimal

import pytest
from django.utils import timezone

from exports.models import ExportRecord, HoldRelease, ReviewItem
from mappings.models import CategoriserModel, CategoryMapping, CodingRule
from tests.conftest import admin_login
from tests.core.factories import make_org
from tests.exports.conftest import approve, expense
from tests.mappings.factories import make_connection

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_rules_test_and_apply_with_count_and_amount(page, live_server, artifacts_dir):
    org = make_org("coding-e2e", mode="live")
    conn = make_connection(org)
    CategoryMapping.objects.create(connection=conn, category_code="TRAVEL", account="acc-travel")
    approve(org, expense("exp_1", amount="40.00", merchant="Careem"), expense("exp_2", amount="2.50", merchant="CAREEM*RIDE 9"),
            expense("exp_3", merchant="Uber"))
    CodingRule.objects.create(connection=conn, name="Airport transfers", merchant="uber", account="acc-uber",
                              position=1)
    rule = CodingRule.objects.create(connection=conn, name="Careem to taxis", merchant="careem", account="acc-taxi",
                                     position=2, active=False)
    admin_login(page, live_server)

    page.goto(f"{live_server.url}/admin/mappings/codingrule/")
    assert page.locator("text=Careem to taxis").first.is_visible()
    page.screenshot(path=os.path.join(artifacts_dir, "coding-rules-list.png"), full_page=True)

    page.goto(f"{live_server.url}/admin/mappings/codingrule/{rule.pk}/change/")
    page.locator("a", has_text="Test this rule").first.click()
    summary = page.locator("#rule-test-summary")
    summary.wait_for()
    assert "2 pending expense(s) would be re-coded (42.50 SAR)" in summary.inner_text()
    page.screenshot(path=os.path.join(artifacts_dir, "coding-rule-test.png"), full_page=True)

    page.locator("a", has_text="Apply to pending expenses").first.click()
    assert page.locator("text=re-code 2 pending expenses totalling 42.50 SAR").first.is_visible()
    page.screenshot(path=os.path.join(artifacts_dir, "coding-rule-apply-confirm.png"), full_page=True)
    assert not CodingRule.objects.get(pk=rule.pk).active  # the GET only asked
    page.locator("form button[type=submit]", has_text="Apply").first.click()
    page.wait_for_url(f"{live_server.url}/admin/mappings/codingrule/{rule.pk}/change/")
    assert CodingRule.objects.get(pk=rule.pk).active


def test_a_hold_is_approved_from_the_queue_and_the_model_page(page, live_server, artifacts_dir):
    org = make_org("holds-e2e", mode="live")
    conn = make_connection(org)
    approve(org, expense("exp_9", amount="8000.00"))
    record = ExportRecord.objects.get(connection=conn)
    ReviewItem.objects.filter(record=record).delete()  # whatever the inline worker made of it: held instead
    ExportRecord.objects.filter(pk=record.pk).update(status="needs_review")
    item = ReviewItem.objects.create(organization=org, record=record, reason=ReviewItem.Reason.HOLD_RULE,
                                     detail="Held by rule: Big spend", sla_due_at=timezone.now())
    for n, status, accuracy in ((1, "retired", 0.91), (2, "promoted", 0.94), (3, "rejected", 0.89)):
        CategoriserModel.objects.create(connection=conn, version=n, status=status, trained_at=timezone.now(),
                                        training_size=800 * n, heldout_size=200 * n, heldout_accuracy=accuracy,
                                        coverage=0.78, precision_at_threshold=0.97, sklearn_version="1.9.1",
                                        blob=b"")
    admin_login(page, live_server)

    page.goto(f"{live_server.url}/admin/exports/reviewitem/{item.pk}/change/")
    page.locator("a", has_text="Approve and export").first.click()
    page.locator("#dialog").wait_for()
    page.screenshot(path=os.path.join(artifacts_dir, "hold-approve-dialog.png"), full_page=True)
    page.locator("#dialog button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/admin/exports/reviewitem/")
    approval = HoldRelease.objects.get()
    assert approval.released and approval.approver_label == "admin" and approval.amount == Decimal("8000.000")

    page.goto(f"{live_server.url}/admin/mappings/categorisermodel/")
    assert page.locator("text=94.0%").first.is_visible()
    page.screenshot(path=os.path.join(artifacts_dir, "categoriser-models.png"), full_page=True)
