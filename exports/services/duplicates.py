"""Duplicate detection on content, before an expense goes out.

Two different Expensico expenses are possible duplicates when they share employee, merchant,
amount, currency and date, or a receipt's SHA-256. Only the later one (mirrored second) is
flagged, so the first still books. A person's decision on the review item is the audit trail:
once an item for this record was resolved as "not a duplicate" (retried or acknowledged), the
record is not flagged again."""

from dataclasses import dataclass
from typing import Any

from django.db import connections, router

from expensico_sync.source.models import Expense, Receipt

from ..messages import said
from ..models import DuplicatePolicy, DuplicateSettings, ExportRecord, Kind, ReviewItem

CLEARED = (ReviewItem.Resolution.RETRIED, ReviewItem.Resolution.ACKNOWLEDGED)


@dataclass(frozen=True)
class Duplicates:
    matches: tuple[dict[str, str], ...]        # {"expense": expensico id, "on": "content" | "receipt"}

    @property
    def detail(self) -> str:
        return said("possible_duplicate", matches=[
            said("duplicate_receipt" if m["on"] == "receipt" else "duplicate_content", expense=m["expense"])
            for m in self.matches])

    @property
    def context(self) -> dict[str, Any]:
        return {"duplicates": list(self.matches)}


def duplicate_policy(organization_id: int) -> str:
    policy = DuplicateSettings.objects.filter(organization_id=organization_id).values_list("policy", flat=True)
    return policy.first() or DuplicatePolicy.HOLD


def expense_duplicates(expense: Expense) -> Duplicates | None:
    """Earlier approved expenses of the same organisation that look like this one."""
    hashes = [r.sha256 for r in expense.receipts.all() if r.sha256]
    found: dict[str, str] = {}
    for eid, merchant, amount, currency, day, employee in _look_alikes(expense, hashes):
        content = (employee == expense.employee_id and merchant.strip().lower() == expense.merchant.strip().lower()
                   and amount == expense.amount and currency == expense.currency and day == expense.date)
        found.setdefault(eid, "content" if content else "receipt")
    if not found:
        return None
    return Duplicates(tuple({"expense": eid, "on": on} for eid, on in sorted(found.items())))


def _look_alikes(expense: Expense, hashes: list[str]) -> list[tuple[Any, ...]]:
    """(expensico id, merchant, amount, currency, date, employee) of the earlier approved expenses
    with the same content (merchant compared case-insensitively, as `iexact` does) or a receipt
    of the same SHA-256. Written out in SQL: it runs for every record the worker sends, and the
    ORM spent more CPU building it than the database spent answering it."""
    model = type(expense)
    db = router.db_for_read(model)
    conn = connections[db]
    table, receipts = model._meta.db_table, Receipt._meta.db_table
    by_name = {f.name: f for f in model._meta.concrete_fields}
    join, by_receipt, params = "", "", []
    if hashes:
        join = f' LEFT OUTER JOIN "{receipts}" r ON r.expense_id = e.id'
        by_receipt = f" OR r.sha256 IN ({', '.join(['%s'] * len(hashes))})"
    sql = (f'SELECT DISTINCT e.expensico_id, e.merchant, e.amount, e.currency, e.date, e.employee_id '
           f'FROM "{table}" e{join} WHERE e.organization_id = %s AND e.status = %s AND e.id < %s '
           'AND NOT (e.expensico_id = %s) AND ((e.employee_id = %s AND UPPER(e.merchant) = UPPER(%s) '
           f'AND e.amount = %s AND e.currency = %s AND e.date = %s){by_receipt})')
    params = [expense.organization_id, "approved", expense.pk, expense.expensico_id, expense.employee_id,
              expense.merchant.strip(), by_name["amount"].get_db_prep_value(expense.amount, conn),
              expense.currency, by_name["date"].get_db_prep_value(expense.date, conn), *hashes]
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    converters = [by_name["amount"], by_name["date"]]
    return [(eid, merchant, _from_db(converters[0], amount, conn), currency, _from_db(converters[1], day, conn),
             employee) for eid, merchant, amount, currency, day, employee in rows]


def _from_db(field: Any, value: Any, conn: Any) -> Any:
    """A raw column value as the ORM would hand it out (SQLite returns text or floats)."""
    for convert in conn.ops.get_db_converters(field.get_col(field.model._meta.db_table)) + \
            field.get_db_converters(conn):
        value = convert(value, field.get_col(field.model._meta.db_table), conn)
    return value


def record_duplicates(record: ExportRecord) -> Duplicates | None:
    """Possible duplicates to flag for this record; None when there are none or a person cleared it."""
    if record.kind != Kind.EXPENSE or record.expense is None:
        return None
    found = expense_duplicates(record.expense)
    if found is None or ReviewItem.objects.filter(record=record, reason=ReviewItem.Reason.POSSIBLE_DUPLICATE,
                                                  resolution__in=CLEARED).exists():
        return None
    return found
