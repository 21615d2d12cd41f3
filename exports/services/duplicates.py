"""Duplicate detection on content, before an expense goes out.

Two different Expensico expenses are possible duplicates when they share employee, merchant,
amount, currency and date, or a receipt's SHA-256. Only the later one (mirrored second) is
flagged, so the first still books. A person's decision on the review item is the audit trail:
once an item for this record was resolved as "not a duplicate" (retried or acknowledged), the
record is not flagged again."""

from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from expensico_sync.source.models import Expense

from ..models import DuplicatePolicy, DuplicateSettings, ExportRecord, Kind, ReviewItem

CLEARED = (ReviewItem.Resolution.RETRIED, ReviewItem.Resolution.ACKNOWLEDGED)


@dataclass(frozen=True)
class Duplicates:
    matches: tuple[dict[str, str], ...]        # {"expense": expensico id, "on": "content" | "receipt"}

    @property
    def detail(self) -> str:
        return "Possible duplicate of " + ", ".join(f"{m['expense']} (same {m['on']})" for m in self.matches)

    @property
    def context(self) -> dict[str, Any]:
        return {"duplicates": list(self.matches)}


def duplicate_policy(organization_id: int) -> str:
    policy = DuplicateSettings.objects.filter(organization_id=organization_id).values_list("policy", flat=True)
    return policy.first() or DuplicatePolicy.HOLD


def expense_duplicates(expense: Expense) -> Duplicates | None:
    """Earlier approved expenses of the same organisation that look like this one."""
    model = type(expense)
    earlier = model.objects.filter(organization_id=expense.organization_id, status="approved",
                                   pk__lt=expense.pk).exclude(expensico_id=expense.expensico_id)
    same_content = Q(employee_id=expense.employee_id, merchant__iexact=expense.merchant.strip(),
                     amount=expense.amount, currency=expense.currency, date=expense.date)
    hashes = [r.sha256 for r in expense.receipts.all() if r.sha256]
    same_receipt = Q(receipts__sha256__in=hashes) if hashes else Q(pk__in=[])
    found: dict[str, str] = {}
    for eid, merchant, amount, currency, day, employee in earlier.filter(same_content | same_receipt).values_list(
            "expensico_id", "merchant", "amount", "currency", "date", "employee_id").distinct():
        content = (employee == expense.employee_id and merchant.strip().lower() == expense.merchant.strip().lower()
                   and amount == expense.amount and currency == expense.currency and day == expense.date)
        found.setdefault(eid, "content" if content else "receipt")
    if not found:
        return None
    return Duplicates(tuple({"expense": eid, "on": on} for eid, on in sorted(found.items())))


def record_duplicates(record: ExportRecord) -> Duplicates | None:
    """Possible duplicates to flag for this record; None when there are none or a person cleared it."""
    if record.kind != Kind.EXPENSE or record.expense is None:
        return None
    found = expense_duplicates(record.expense)
    if found is None or ReviewItem.objects.filter(record=record, reason=ReviewItem.Reason.POSSIBLE_DUPLICATE,
                                                  resolution__in=CLEARED).exists():
        return None
    return found
