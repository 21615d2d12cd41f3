"""Upserting validated Expensico documents into the mirror and announcing what changed.

The one code path for webhooks and the pull sync. Callers hold a transaction (the functions
assert it) so the mirror rows, the announcements' listener rows and the delivery log commit
together. Each function returns the decisions it took, for the delivery log or the sync counts.

Concurrency: a document is serialised by a transaction-scoped advisory lock on PostgreSQL
(report id for reports and their cancellations, funding id, reimbursement id, bank account id);
SQLite serialises writers already (IMMEDIATE transactions). Shared reference rows (employees,
categories, cards) are inserted with ON CONFLICT DO NOTHING and only updated when they changed,
so concurrent reports don't queue on them.
"""

import hashlib

from django.db import connection, transaction
from django_q.tasks import async_task

from . import signals
from .models import (
    BankStatementLine,
    Card,
    CardFunding,
    Category,
    Employee,
    Expense,
    ExpenseCancellation,
    ExpenseReport,
    Receipt,
    Reimbursement,
)

Decision = dict


def _lock(organization, kind: str, key: str) -> None:
    if connection.vendor != "postgresql":
        return
    digest = hashlib.blake2b(f"{organization.pk}:{kind}:{key}".encode(), digest_size=8).digest()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [int.from_bytes(digest, "big", signed=True)])


def _upsert_refs(model, organization, rows: dict[str, dict]) -> dict[str, object]:
    """rows: expensico_id -> field values. Returns expensico_id -> saved instance."""
    if not rows:
        return {}
    found = {o.expensico_id: o for o in model.objects.filter(organization=organization, expensico_id__in=rows)}
    missing = [model(organization=organization, expensico_id=i, **rows[i]) for i in sorted(rows) if i not in found]
    if missing:
        model.objects.bulk_create(missing, ignore_conflicts=True)
        found.update({o.expensico_id: o for o in model.objects.filter(
            organization=organization, expensico_id__in=[m.expensico_id for m in missing])})
    changed = []
    for ext_id, values in rows.items():
        obj = found[ext_id]
        if any(getattr(obj, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(obj, k, v)
            changed.append(obj)
    if changed:
        model.objects.bulk_update(sorted(changed, key=lambda o: o.expensico_id), list(rows[changed[0].expensico_id]))
    return found


def employees_upsert(*, organization, people: list[dict]) -> dict[str, Employee]:
    rows = {}
    for p in people:
        row = {"name": p["name"]}
        if p.get("email") is not None:
            row["email"] = p["email"]
        rows[p["id"]] = {**rows.get(p["id"], {}), **row}
    # Rows without an email keep the stored one; split so bulk_update names the same fields.
    with_email = {k: v for k, v in rows.items() if "email" in v}
    found = _upsert_refs(Employee, organization, with_email)
    found.update(_upsert_refs(Employee, organization, {k: v for k, v in rows.items() if k not in with_email}))
    return found


def categories_upsert(*, organization, categories: list[dict]) -> dict[str, Category]:
    rows = {c["id"]: {"code": c["code"], "name": c["name"], **({"active": c["active"]} if "active" in c else {})}
            for c in categories}
    with_active = {k: v for k, v in rows.items() if "active" in v}
    found = _upsert_refs(Category, organization, with_active)
    found.update(_upsert_refs(Category, organization, {k: v for k, v in rows.items() if k not in with_active}))
    return found


def cards_upsert(*, organization, cards: list[tuple[dict, Employee]]) -> dict[str, Card]:
    return _upsert_refs(Card, organization, {c["id"]: {"last4": c["last4"], "employee_id": e.pk} for c, e in cards})


def _expense_fields(data: dict, *, report, category, card, employee, cancellation) -> dict:
    tax = data.get("tax") or {}
    fields = {
        "report": report, "version": data["version"], "type": data["type"], "date": data["date"],
        "merchant": data.get("merchant") or "", "description": data["description"],
        "description_ar": data.get("description_ar") or "", "category": category,
        "funding_source": data["funding_source"], "card": card, "amount": data["amount"],
        "currency": data["currency"], "exchange_rate": data.get("exchange_rate"),
        "tax_code": tax.get("code") or "", "tax_rate": tax.get("rate"), "tax_amount": tax.get("amount"),
        "tax_inclusive": tax.get("inclusive"), "dimensions": dict(data.get("dimensions") or {}),
        "details": dict(data.get("details") or {}), "custom_fields": dict(data.get("custom_fields") or {}),
        "employee": employee, "status": Expense.Status.APPROVED, "cancelled_at": None, "cancel_reason": "",
    }
    if cancellation is not None and cancellation.version >= data["version"]:
        fields.update(status=Expense.Status.CANCELLED, cancelled_at=cancellation.cancelled_at,
                      cancel_reason=cancellation.reason)
    return fields


EXPENSE_UPDATE_FIELDS = [
    "report", "version", "type", "date", "merchant", "description", "description_ar", "category",
    "funding_source", "card", "amount", "currency", "exchange_rate", "tax_code", "tax_rate", "tax_amount",
    "tax_inclusive", "dimensions", "details", "custom_fields", "employee", "status", "cancelled_at",
    "cancel_reason", "updated_at",
]


def report_upsert(*, organization, report: dict, raw: dict | None = None) -> list[Decision]:
    """Mirrors an approved report. Expenses at a version <= the mirror's are ignored (recorded)."""
    assert connection.in_atomic_block, "report_upsert must run inside the intake/pull transaction"
    _lock(organization, "report", report["id"])
    expenses_in = report["expenses"]
    employee = employees_upsert(organization=organization, people=[report["employee"]])[report["employee"]["id"]]
    categories = categories_upsert(organization=organization, categories=[e["category"] for e in expenses_in])
    cards = cards_upsert(organization=organization,
                         cards=[(e["card"], employee) for e in expenses_in if e.get("card")])
    ids = [e["id"] for e in expenses_in]
    report_obj = ExpenseReport.objects.filter(organization=organization, expensico_id=report["id"]).first()
    # Looked up by id, not by report: an expense re-approved under another report moves with it.
    existing = {e.expensico_id: e for e in Expense.objects.filter(organization=organization, expensico_id__in=ids)}
    cancellations = {}
    for c in ExpenseCancellation.objects.filter(organization=organization, expense_expensico_id__in=ids):
        if c.expense_expensico_id not in cancellations or c.version > cancellations[c.expense_expensico_id].version:
            cancellations[c.expense_expensico_id] = c

    decisions, fresh = [], []
    for data in expenses_in:
        current = existing.get(data["id"])
        if current is not None and data["version"] <= current.version:
            decisions.append({"expense": data["id"], "decision": "ignored_stale_version",
                              "version": data["version"], "mirror_version": current.version})
        else:
            fresh.append(data)
    if not fresh:
        return decisions

    values = {"number": report["number"], "title": report["title"], "employee": employee,
              "approved_at": report["approved_at"], "approved_by_id": report["approved_by"]["id"],
              "approved_by_name": report["approved_by"]["name"], "currency": report["currency"],
              "raw": raw if raw is not None else report}
    if report_obj is None:
        report_obj = ExpenseReport.objects.create(organization=organization, expensico_id=report["id"], **values)
        # A reimbursement can overtake its report: link it now. Paid on or after approval, same employee.
        for paid in Reimbursement.objects.filter(organization=organization, employee=employee,
                                                 date__gte=report["approved_at"].date()):
            if report["id"] in paid.report_ids:
                paid.reports.add(report_obj)
    elif report["approved_at"] >= report_obj.approved_at:
        # The header follows the latest approval; a late, older delivery only adds its expenses.
        for k, v in values.items():
            setattr(report_obj, k, v)
        report_obj.save()

    created, superseded, receipts = [], [], []
    for data in fresh:
        fields = _expense_fields(data, report=report_obj, category=categories[data["category"]["id"]],
                                 card=cards.get((data.get("card") or {}).get("id")), employee=employee,
                                 cancellation=cancellations.get(data["id"]))
        current = existing.get(data["id"])
        if current is None:
            created.append(Expense(organization=organization, expensico_id=data["id"], **fields))
        else:
            previous = current.version
            for k, v in fields.items():
                setattr(current, k, v)
            superseded.append((current, previous))
    Expense.objects.bulk_create(created)
    if superseded:
        Expense.objects.bulk_update([e for e, _ in superseded], EXPENSE_UPDATE_FIELDS)
        # A new version's receipts replace the old version's.
        Receipt.objects.filter(expense__in=[e for e, _ in superseded]).delete()
    by_id = {e.expensico_id: e for e in created} | {e.expensico_id: e for e, _ in superseded}
    for data in fresh:
        receipts += [Receipt(expense=by_id[data["id"]], expensico_id=r["id"], filename=r["filename"],
                             content_type=r["content_type"], size=r["size"], sha256=r["sha256"].lower(),
                             url=r["url"]) for r in data.get("receipts") or []]
    Receipt.objects.bulk_create(receipts)
    if receipts:
        receipt_ids = [r.pk for r in receipts]
        transaction.on_commit(lambda: async_task("expensico_sync.source.tasks.receipts_fetch", receipt_ids))

    changed = [by_id[d["id"]] for d in fresh]
    live = [e for e in changed if e.status == Expense.Status.APPROVED]
    if live:
        signals.report_approved.send(sender=ExpenseReport, organization=organization, report=report_obj,
                                     expenses=live)
    for expense, previous in superseded:
        decisions.append({"expense": expense.expensico_id, "decision": "superseded",
                          "version": expense.version, "previous_version": previous})
        signals.expense_superseded.send(sender=Expense, organization=organization, expense=expense,
                                        previous_version=previous)
    for expense in changed:
        if expense.status == Expense.Status.CANCELLED:
            decisions.append({"expense": expense.expensico_id, "decision": "cancelled_on_arrival",
                              "version": expense.version})
            signals.expense_cancelled.send(sender=Expense, organization=organization, expense=expense)
    return decisions


def expense_cancel(*, organization, data: dict) -> list[Decision]:
    """Cancels an expense; if it is not mirrored yet the cancellation waits for it (tombstone)."""
    assert connection.in_atomic_block
    _lock(organization, "report", data["report_id"])
    ExpenseCancellation.objects.get_or_create(
        organization=organization, expense_expensico_id=data["expense_id"], version=data["version"],
        defaults={"expensico_id": f"{data['expense_id']}@{data['version']}", "report_expensico_id": data["report_id"],
                  "reason": data.get("reason") or "", "cancelled_at": data["cancelled_at"]})
    decision = {"expense": data["expense_id"], "version": data["version"]}
    expense = Expense.objects.filter(organization=organization, expensico_id=data["expense_id"]).first()
    if expense is None:
        return [{**decision, "decision": "cancellation_before_approval"}]
    if expense.version > data["version"]:
        return [{**decision, "decision": "ignored_stale_cancellation", "mirror_version": expense.version}]
    if expense.status == Expense.Status.CANCELLED:
        return [{**decision, "decision": "already_cancelled"}]
    expense.status = Expense.Status.CANCELLED
    expense.cancelled_at = data["cancelled_at"]
    expense.cancel_reason = data.get("reason") or ""
    expense.save(update_fields=["status", "cancelled_at", "cancel_reason", "updated_at"])
    signals.expense_cancelled.send(sender=Expense, organization=organization, expense=expense)
    return [{**decision, "decision": "cancelled"}]


def funding_record(*, organization, funding: dict, direction: str) -> list[Decision]:
    assert connection.in_atomic_block
    _lock(organization, "funding", funding["id"])
    if CardFunding.objects.filter(organization=organization, expensico_id=funding["id"]).exists():
        return [{"funding": funding["id"], "decision": "already_recorded"}]
    employee = employees_upsert(organization=organization, people=[funding["employee"]])[funding["employee"]["id"]]
    card = cards_upsert(organization=organization, cards=[(funding["card"], employee)])[funding["card"]["id"]]
    obj = CardFunding.objects.create(
        organization=organization, expensico_id=funding["id"], card=card, employee=employee, direction=direction,
        amount=funding["amount"], currency=funding["currency"], date=funding["date"],
        bank_reference=funding.get("bank_reference") or "", description=funding.get("description") or "")
    signals.funding_recorded.send(sender=CardFunding, organization=organization, funding=obj)
    return []


def reimbursement_record(*, organization, reimbursement: dict) -> list[Decision]:
    assert connection.in_atomic_block
    _lock(organization, "reimbursement", reimbursement["id"])
    if Reimbursement.objects.filter(organization=organization, expensico_id=reimbursement["id"]).exists():
        return [{"reimbursement": reimbursement["id"], "decision": "already_recorded"}]
    person = reimbursement["employee"]
    employee = employees_upsert(organization=organization, people=[person])[person["id"]]
    obj = Reimbursement.objects.create(
        organization=organization, expensico_id=reimbursement["id"], employee=employee,
        report_ids=list(reimbursement["report_ids"]), amount=reimbursement["amount"],
        currency=reimbursement["currency"], date=reimbursement["date"],
        bank_reference=reimbursement.get("bank_reference") or "",
        description=reimbursement.get("description") or "")
    obj.reports.set(ExpenseReport.objects.filter(organization=organization,
                                                 expensico_id__in=reimbursement["report_ids"]))
    signals.reimbursement_recorded.send(sender=Reimbursement, organization=organization, reimbursement=obj)
    return []


def statement_lines_record(*, organization, bank_account: dict, lines: list[dict]) -> list[Decision]:
    """Lines are immutable: a line already mirrored is skipped, only new ones are announced."""
    assert connection.in_atomic_block
    _lock(organization, "bank", bank_account["id"])
    ids = [line["id"] for line in lines]
    known = set(BankStatementLine.objects.filter(organization=organization, expensico_id__in=ids)
                .values_list("expensico_id", flat=True))
    new, seen = [], set()
    for line in lines:
        if line["id"] in known or line["id"] in seen:
            continue
        seen.add(line["id"])
        new.append(BankStatementLine(
            organization=organization, expensico_id=line["id"], bank_account_id=bank_account["id"],
            bank_account_name=bank_account.get("name") or "", currency=bank_account["currency"],
            iban=bank_account.get("iban") or "", date=line["date"], amount=line["amount"],
            balance=line["balance"], description=line.get("description") or "",
            reference=line.get("reference") or "", bank_reference=line.get("bank_reference") or ""))
    BankStatementLine.objects.bulk_create(new)
    if new:
        signals.statement_lines_recorded.send(sender=BankStatementLine, organization=organization, lines=new)
    skipped = len(lines) - len(new)
    return [{"bank_account": bank_account["id"], "decision": "lines_already_recorded", "count": skipped}] if skipped else []


def event_apply(*, organization, event_type: str, data: dict, raw: dict | None = None) -> list[Decision]:
    """Dispatches one validated event (webhook `data`) to the mirror."""
    if event_type == "expense_report.approved":
        return report_upsert(organization=organization, report=data["report"],
                             raw=(raw or {}).get("data", {}).get("report"))
    if event_type == "expense.cancelled":
        return expense_cancel(organization=organization, data=data)
    if event_type in ("card.funded", "card.unloaded"):
        return funding_record(organization=organization, funding=data["funding"],
                              direction="in" if event_type == "card.funded" else "out")
    if event_type == "reimbursement.paid":
        return reimbursement_record(organization=organization, reimbursement=data["reimbursement"])
    if event_type == "bank_statement.published":
        return statement_lines_record(organization=organization, bank_account=data["bank_account"],
                                      lines=data["lines"])
    raise ValueError(f"unknown event type {event_type!r}")


def lines_by_account(lines: list[dict]) -> dict[str, tuple[dict, list[dict]]]:
    """Pull API lines carry their account; group them for statement_lines_record."""
    out: dict[str, tuple[dict, list[dict]]] = {}
    for line in lines:
        account = line["bank_account"]
        out.setdefault(account["id"], (account, []))[1].append(line)
    return out
