"""In a real browser: the suggested-coding queue worked from the keyboard alone (j/k to move, a to
accept, c to correct). Screenshots go to test-artifacts/."""

import os
from datetime import timedelta

import pytest
from django.utils import timezone

from exports.models import ExportRecord, ReviewItem
from mappings.models import CodingCorrection
from tests.conftest import admin_login
from tests.core.factories import make_org
from tests.exports.conftest import approve, expense
from tests.mappings.factories import make_connection

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_accept_and_correct_from_the_keyboard(page, live_server, artifacts_dir):
    org = make_org("queue-e2e", mode="live")
    make_connection(org)
    approve(org, *[expense(f"exp_{i}", amount=f"{10 + i}.00", merchant=m, category="OTHER")
                   for i, m in enumerate(["Careem", "Albaik", "Hilton"])])
    now = timezone.now()
    for n, record in enumerate(ExportRecord.objects.order_by("source_id")):
        ReviewItem.objects.filter(record=record).delete()   # whatever the inline worker made of it
        ExportRecord.objects.filter(pk=record.pk).update(status="needs_review")
        ReviewItem.objects.create(organization=org, record=record, reason=ReviewItem.Reason.SUGGESTED_CODING,
                                  detail="Suggested account", sla_due_at=now + timedelta(hours=n),
                                  context={"account": f"acc-{n}", "account_name": f"Account {n}",
                                           "probability": 0.61, "model_version": 2, "category": "OTHER"})
    admin_login(page, live_server)

    page.goto(f"{live_server.url}/admin/exports/suggestedcoding/")
    rows = page.locator(".queue-row")
    assert rows.count() == 3
    assert "selected" in rows.nth(0).get_attribute("class")
    page.screenshot(path=os.path.join(artifacts_dir, "suggested-queue.png"), full_page=True)

    page.keyboard.press("j")
    assert "selected" in rows.nth(1).get_attribute("class")
    page.keyboard.press("a")                                  # accept the second: Account 1
    page.locator("#queue-status", has_text="accepted Account 1").wait_for()
    assert rows.count() == 2
    page.keyboard.press("k")                                  # back to the first
    page.keyboard.press("c")
    field = rows.nth(0).locator(".correct-input")
    assert field.is_visible()
    page.keyboard.type("acc-right")
    page.screenshot(path=os.path.join(artifacts_dir, "suggested-queue-correct.png"), full_page=True)
    page.keyboard.press("Enter")
    page.locator("#queue-status", has_text="corrected to acc-right").wait_for()
    assert rows.count() == 1
    page.screenshot(path=os.path.join(artifacts_dir, "suggested-queue-after.png"), full_page=True)

    answers = {c.source_id: (c.account, c.accepted) for c in CodingCorrection.objects.all()}
    assert answers == {"exp_1": ("acc-1", True), "exp_0": ("acc-right", False)}
    assert ReviewItem.objects.filter(reason=ReviewItem.Reason.SUGGESTED_CODING, resolved_at__isnull=True).count() == 1


def test_a_proposed_dimension_is_corrected_from_the_keyboard(page, live_server, artifacts_dir):
    org = make_org("queue-dims-e2e", mode="live")
    make_connection(org)
    approve(org, expense("exp_0", amount="25.00", merchant="Careem", category="OTHER"))
    record = ExportRecord.objects.get()
    ReviewItem.objects.filter(record=record).delete()
    ExportRecord.objects.filter(pk=record.pk).update(status="needs_review")
    ReviewItem.objects.create(organization=org, record=record, reason=ReviewItem.Reason.SUGGESTED_CODING,
                              detail="Suggested coding", sla_due_at=timezone.now() + timedelta(hours=1),
                              context={"account": "acc-0", "account_name": "Account 0", "probability": 0.95,
                                       "account_from": "mapping", "model_version": 2, "category": "OTHER",
                                       "dimensions": {"cost_center": {"value": "CC-1", "probability": 0.62}}})
    admin_login(page, live_server)

    page.goto(f"{live_server.url}/admin/exports/suggestedcoding/")
    row = page.locator(".queue-row").nth(0)
    assert "cost_center" in row.inner_text() and "CC-1 (p 0.62)" in row.inner_text()
    page.keyboard.press("c")                                  # the account and each proposed dimension open
    dim = row.locator(".dim-input[data-key=cost_center]")
    assert dim.is_visible() and dim.input_value() == "CC-1"
    dim.fill("CC-9")
    page.screenshot(path=os.path.join(artifacts_dir, "suggested-queue-dimension.png"), full_page=True)
    dim.press("Enter")                                        # no account typed: the suggested one stays
    page.locator("#queue-status", has_text="corrected to").wait_for()

    [correction] = CodingCorrection.objects.all()
    assert (correction.account, correction.accepted, correction.dimensions) == ("acc-0", False, {"cost_center": "CC-9"})
