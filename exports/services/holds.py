"""Releasing a hold: a person allowed to approves a held expense for export.

Above the organisation's two-person amount the first approval is recorded and the item waits for
a second, different approver. The release marks the record (`hold_released_at`) so hold rules no
longer stop it: the retry that follows, and any later one, sends it; the idempotency key and the
status table make that send happen once."""

from decimal import Decimal

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from expensico_sync.core.models import Membership, OrganizationAPIKey
from expensico_sync.core.roles import role_allows

from ..messages import said
from ..models import ExportRecord, HoldPolicy, HoldRelease, ReviewItem
from ..transitions import Status
from .records import enqueue_on_commit
from .review import By, ReviewError, _label, _user_or_none
from .status_update import record_transition

HOLD_REASONS = (ReviewItem.Reason.HOLD_RULE, ReviewItem.Reason.MISSING_RECEIPT)


def _role(user: By, organization_id: int) -> str:
    if getattr(user, "is_superuser", False):
        return "superuser"
    if isinstance(user, OrganizationAPIKey):
        return user.role if user.organization_id == organization_id else ""
    if not isinstance(user, User):  # anonymous, or an automatic step: no role
        return ""
    return Membership.objects.filter(user=user, organization_id=organization_id).values_list(
        "role", flat=True).first() or ""


def base_amount(record: ExportRecord) -> Decimal | None:
    """The expense's absolute amount in the organisation's base currency; None when it cannot be
    told (another currency without Expensico's rate into base), which counts as above any limit."""
    expense = record.expense
    assert expense is not None  # only expenses are held
    base = record.organization.base_currency
    amount: Decimal
    if expense.currency == base:
        amount = abs(expense.amount)
        return amount
    if expense.exchange_rate and expense.report.currency == base:
        amount = abs(expense.amount * expense.exchange_rate)
        return amount
    return None


def approvals_needed(record: ExportRecord) -> int:
    limit = HoldPolicy.objects.filter(organization_id=record.organization_id).values_list(
        "two_person_above", flat=True).first()
    if limit is None:
        return 1
    amount = base_amount(record)
    return 2 if amount is None or amount > limit else 1


@transaction.atomic
def hold_release(*, item: ReviewItem, by: By, note: str = "") -> HoldRelease:
    """Approves a held record; the last approval needed puts it back in the queue, released."""
    item = ReviewItem.objects.select_for_update(of=("self",)).select_related(
        "record__expense__report", "record__organization").get(pk=item.pk)
    record = item.record
    if not item.is_open or item.reason not in HOLD_REASONS or record.status != Status.NEEDS_REVIEW:
        raise ReviewError(said("not_a_hold"), code="not_a_hold")
    role = _role(by, item.organization_id)
    if role != "superuser" and not role_allows(role, "holds.release"):
        raise ReviewError(said("hold_forbidden"), code="forbidden")
    earlier = list(item.hold_releases.order_by("step"))
    if any(a.approver_label == _label(by) for a in earlier):
        raise ReviewError(said("same_approver"), code="same_approver")
    needed = approvals_needed(record)
    step = len(earlier) + 1
    released = step >= needed
    approval = HoldRelease.objects.create(
        organization_id=item.organization_id, record=record, review_item=item, approver=_user_or_none(by),
        approver_label=_label(by), role=role, step=step, released=released, note=note,
        amount=base_amount(record))
    if not released:
        ReviewItem.objects.filter(pk=item.pk).update(
            context={**item.context, "approvals": step, "approvals_needed": needed})
        return approval
    now = timezone.now()
    record_transition(record=record, to=Status.PENDING, expected=Status.NEEDS_REVIEW, next_attempt_at=now,
                      attempts=0, wait_reason="", last_error="", hold_released_at=now)
    enqueue_on_commit([record.pk])
    item.resolution = ReviewItem.Resolution.RELEASED
    item.resolution_note = note
    item.resolved_at = now
    item.resolved_by = _user_or_none(by)
    item.resolved_by_label = _label(by)
    item.save()
    return approval
