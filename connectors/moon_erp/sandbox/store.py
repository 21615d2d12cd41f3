"""The Moon ERP sandbox's books: companies, chart, catalogs, expenses and journal entries, with
the business rules of ../shared/vendor-apis/moon-erp.md. No HTTP here (see sandbox.py).

Rules implemented (documented): `EXP-YYYY-NNNN` numbering per company and year, tax
`amount * rate / 100` (half-up to 3 decimals, as PHP's round), `total = amount + tax`, tax
recalculated on update when amount or tax rate change, draft-only update/delete, soft delete,
approval posts a balanced journal entry (category GL debit, tax account debit, paying account
credit), cancellation posts its mirror, company scoping, bank account required for check/transfer.
*Inferred* (the document is silent): the year of the number is the expense date's; a deleted
draft keeps its number (no reuse); the paying account must be an active, non-group asset or
liability account (`strict_paying_account=True` narrows it to cash/bank sub-types); `amount` may
carry at most 3 decimals and must be > 0; description max 255 characters.
Closed periods (the document is silent; the usual Laravel answer): with `closed_through` set (the
control endpoint's setting; Moon's API has no period endpoint), creating or updating an expense
dated on or before it, and approving one (its journal entry is dated on the expense's date), is a
422 `{"errors": {"date": ["The date falls in a closed accounting period (closed through
YYYY-MM-DD)."]}}`. Cancelling posts the mirror entry on the expense's date while that period is
open; once it is closed, on the day of the cancellation (the document says only "reverses the
journal entry"; a closed period's books never change, so its reversal lands in the open one, the
usual ERP answer), its description naming the expense's number and original date. The
expense then reads `cancelled` with its own date, though its journal entry stands in the closed
month; `GET journal-entries?reversals=1` lists the reversing entries (read-back pairs them). A
cancellation on a day that is itself closed is the same 422. Journal entries posted by hand in Moon's UI (no API exists for
them) are `manual_journal`, with `source_type` "manual".
"""

import json
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

from ...periods import is_closed

SEED = Path(__file__).parent / "fixtures" / "seed.json"
TABLES = ("companies", "users", "accounts", "transaction_categories", "tax_rates", "cost_centers", "branches",
          "business_partners", "bank_accounts", "expenses", "journal_entries")
THREE = Decimal("0.001")
PAYMENT_METHODS = {"cash": "Cash", "check": "Check", "bank_transfer": "Bank Transfer", "card": "Card",
                   "mixed": "Mixed"}
STATUS_LABELS = {"draft": "Draft", "approved": "Approved", "cancelled": "Cancelled"}
ALL_PERMISSIONS = ["accounting.expenses.view", "accounting.expenses.create", "accounting.expenses.update",
                   "accounting.expenses.approve", "accounting.expenses.cancel", "accounting.accounts.view",
                   "accounting.accounts.create"]


class Invalid(Exception):
    """A Laravel validation failure: {field: [messages]} (422)."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(next(iter(errors.values()))[0])
        self.errors = errors


def now_ts() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def dec(value) -> Decimal:
    return Decimal(str(value))


def amount_str(value: Decimal) -> str:
    return format(value.quantize(THREE, rounding=ROUND_HALF_UP), "f")


def attribute(field: str) -> str:
    return field.replace("_", " ")


class MoonStore:
    def __init__(self, seed_path: Path = SEED):
        self.seed_path = seed_path
        self.strict_paying_account = False
        self.reset()

    # State ------------------------------------------------------------------------------
    def reset(self) -> None:
        seed = json.loads(self.seed_path.read_text())
        ts = now_ts()
        self.tables: dict[str, dict[int, dict]] = {name: {} for name in TABLES}
        for name in TABLES:
            for row in seed.get(name, []):
                row = {"is_active": True, "created_at": ts, "updated_at": ts, **row}
                if name == "users" and row["permissions"] == "all":
                    row["permissions"] = list(ALL_PERMISSIONS)
                self.tables[name][row["id"]] = row
        for row in self.tables["accounts"].values():
            row.setdefault("is_group", False)
        self.sequences: dict[str, int] = {}
        self.closed_through: date | None = None

    def dump(self) -> dict:
        return {"tables": {n: list(rows.values()) for n, rows in self.tables.items()}, "sequences": self.sequences,
                "closed_through": self.closed_through.isoformat() if self.closed_through else None}

    def restore(self, data: dict) -> None:
        self.tables = {n: {r["id"]: r for r in data["tables"].get(n, [])} for n in TABLES}
        self.sequences = data.get("sequences", {})
        self.closed_through = date.fromisoformat(data["closed_through"]) if data.get("closed_through") else None

    def next_id(self, table: str) -> int:
        return max(self.tables[table], default=0) + 1

    def rows(self, table: str, company_id: int) -> list[dict]:
        return [r for r in self.tables[table].values() if r.get("company_id") == company_id]

    def get(self, table: str, company_id: int, row_id) -> dict | None:
        try:
            row = self.tables[table].get(int(row_id))
        except (TypeError, ValueError):
            return None
        return row if row and row.get("company_id") == company_id else None

    def user_for_token(self, token: str) -> dict | None:
        return next((u for u in self.tables["users"].values() if token and u.get("token") == token), None)

    # Chart of accounts and bank accounts (inferred endpoints the connector's setup needs) --------
    def account_create(self, company_id: int, body: dict) -> dict:
        errors: dict[str, list[str]] = {}
        for field in ("code", "name", "type"):
            if not str(body.get(field) or "").strip():
                errors.setdefault(field, []).append(f"The {field} field is required.")
        if body.get("type") and body["type"] not in ("asset", "liability", "equity", "revenue", "expense"):
            errors.setdefault("type", []).append("The selected type is invalid.")
        if any(a["code"] == str(body.get("code")) for a in self.rows("accounts", company_id)):
            errors.setdefault("code", []).append("The code has already been taken.")
        if errors:
            raise Invalid(errors)
        row = {"id": self.next_id("accounts"), "company_id": company_id, "code": str(body["code"]),
               "name": body["name"], "name_ar": body.get("name_ar") or "", "type": body["type"],
               "sub_type": body.get("sub_type") or "", "is_group": False, "is_active": True,
               "created_at": now_ts(), "updated_at": now_ts()}
        self.tables["accounts"][row["id"]] = row
        return row

    def bank_account_create(self, company_id: int, body: dict, currency: str) -> dict:
        if not str(body.get("name") or "").strip():
            raise Invalid({"name": ["The name field is required."]})
        account_id = body.get("account_id")
        if account_id is not None and not self.get("accounts", company_id, account_id):
            raise Invalid({"account_id": ["The selected account id is invalid."]})
        if account_id is None:
            # Inferred: a bank account without a GL account gets its own cash account (as the UI does).
            codes = {a["code"] for a in self.rows("accounts", company_id)}
            code = next(str(c) for c in range(1201002, 1209999) if str(c) not in codes)
            account_id = self.account_create(company_id, {"code": code, "name": body["name"], "type": "asset",
                                                          "sub_type": "bank"})["id"]
        row = {"id": self.next_id("bank_accounts"), "company_id": company_id, "name": body["name"],
               "bank_name": body.get("bank_name") or "", "account_number": body.get("account_number") or "",
               "currency": body.get("currency") or currency, "account_id": int(account_id), "is_active": True,
               "created_at": now_ts(), "updated_at": now_ts()}
        self.tables["bank_accounts"][row["id"]] = row
        return row

    # Expenses -------------------------------------------------------------------------------
    def _validate(self, company_id: int, body: dict, *, partial: bool) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = {}

        def add(field, message):
            errors.setdefault(field, []).append(message)

        for field in ("date", "expense_category_id", "description", "amount", "payment_method", "paying_account_id"):
            if (not partial or field in body) and body.get(field) in (None, ""):
                add(field, f"The {attribute(field)} field is required.")
        if body.get("date") not in (None, ""):
            try:
                date.fromisoformat(str(body["date"]))
            except ValueError:
                add("date", "The date field must be a valid date.")
            else:
                if is_closed(body["date"], self.closed_through):
                    add("date", self.closed_message())
        for field in ("description", "description_ar"):
            if body.get(field) is not None and not isinstance(body[field], str):
                add(field, f"The {attribute(field)} field must be a string.")
            elif len(body.get(field) or "") > 255:
                add(field, f"The {attribute(field)} field must not be greater than 255 characters.")
        if body.get("amount") not in (None, ""):
            try:
                amount = dec(body["amount"])
                if not amount.is_finite():
                    raise InvalidOperation
            except InvalidOperation:
                add("amount", "The amount field must be a number.")
            else:
                if amount <= 0:
                    add("amount", "The amount field must be greater than 0.")
                elif amount != amount.quantize(THREE):
                    add("amount", "The amount field must have 0-3 decimal places.")
        method = body.get("payment_method")
        if method not in (None, "") and method not in PAYMENT_METHODS:
            add("payment_method", "The selected payment method is invalid.")
        refs = {"expense_category_id": "transaction_categories", "tax_rate_id": "tax_rates",
                "paying_account_id": "accounts", "bank_account_id": "bank_accounts", "cost_center_id": "cost_centers",
                "partner_id": "business_partners", "branch_id": "branches"}
        for field, table in refs.items():
            value = body.get(field)
            if value in (None, ""):
                continue
            row = self.get(table, company_id, value)
            if row is None or not row.get("is_active", True) or not self._fits(field, row):
                add(field, f"The selected {attribute(field)} is invalid.")
        if method in ("check", "bank_transfer") and body.get("bank_account_id") in (None, ""):
            add("bank_account_id", f"The bank account id field is required when payment method is {method}.")
        if body.get("notes") is not None and not isinstance(body["notes"], str):
            add("notes", "The notes field must be a string.")
        return errors

    def closed_message(self) -> str:
        return f"The date falls in a closed accounting period (closed through {self.closed_through.isoformat()})."

    def _refuse_closed(self, row: dict) -> None:
        if is_closed(row["date"], self.closed_through):
            raise Invalid({"date": [self.closed_message()]})

    def _fits(self, field: str, row: dict) -> bool:
        if field == "expense_category_id":
            return row["type"] == "expense"
        if field == "paying_account_id":
            if row.get("is_group"):
                return False
            if self.strict_paying_account:
                return row.get("sub_type") in ("cash", "bank")
            return row["type"] in ("asset", "liability")
        return True

    def _tax(self, company_id: int, row: dict) -> None:
        amount = dec(row["amount"])
        rate_row = self.get("tax_rates", company_id, row["tax_rate_id"]) if row.get("tax_rate_id") else None
        tax = (amount * dec(rate_row["rate"]) / 100).quantize(THREE, rounding=ROUND_HALF_UP) if rate_row else Decimal(0)
        row.update(amount=amount_str(amount), tax_amount=amount_str(tax), total_amount=amount_str(amount + tax))

    def _number(self, company_id: int, on: str) -> str:
        year = on[:4]
        key = f"{company_id}:{year}"
        self.sequences[key] = self.sequences.get(key, 0) + 1
        return f"EXP-{year}-{self.sequences[key]:04d}"

    FIELDS = ("date", "expense_category_id", "description", "description_ar", "amount", "tax_rate_id",
              "payment_method", "paying_account_id", "bank_account_id", "check_number", "cost_center_id",
              "partner_id", "branch_id", "notes")

    def expense_create(self, user: dict, body: dict) -> dict:
        company_id = user["company_id"]
        errors = self._validate(company_id, body, partial=False)
        if errors:
            raise Invalid(errors)
        ts = now_ts()
        row = {f: body.get(f) for f in self.FIELDS}
        for f in self.FIELDS:
            if f.endswith("_id") and row[f] not in (None, ""):
                row[f] = int(row[f])
        row.update(id=self.next_id("expenses"), company_id=company_id, document_number=self._number(company_id, row["date"]),
                   status="draft", journal_entry_id=None, created_by=user["id"], approved_by=None, approved_at=None,
                   created_at=ts, updated_at=ts, deleted_at=None)
        self._tax(company_id, row)
        self.tables["expenses"][row["id"]] = row
        return row

    def expense_update(self, user: dict, row: dict, body: dict) -> dict:
        if row["status"] != "draft":
            raise Invalid({"status": ["Only draft expenses can be updated."]})
        merged = {**row, **{k: v for k, v in body.items() if k in self.FIELDS}}
        errors = self._validate(user["company_id"], {k: v for k, v in body.items() if k in self.FIELDS}, partial=True)
        if errors:
            raise Invalid(errors)
        if merged.get("payment_method") in ("check", "bank_transfer") and not merged.get("bank_account_id"):
            raise Invalid({"bank_account_id": ["The bank account id field is required when payment method is "
                                               f"{merged['payment_method']}."]})
        recalc = dec(merged["amount"]) != dec(row["amount"]) or merged.get("tax_rate_id") != row.get("tax_rate_id")
        for f in self.FIELDS:
            if f in body:
                row[f] = int(body[f]) if f.endswith("_id") and body[f] not in (None, "") else body[f]
        if recalc:
            self._tax(user["company_id"], row)
        row["updated_at"] = now_ts()
        return row

    def expense_delete(self, row: dict) -> None:
        if row["status"] != "draft":
            raise Invalid({"status": ["Only draft expenses can be deleted."]})
        row["deleted_at"] = row["updated_at"] = now_ts()

    def expense_approve(self, user: dict, row: dict) -> dict:
        if row["status"] != "draft":
            raise Invalid({"status": ["Only draft expenses can be approved."]})
        self._refuse_closed(row)
        company_id = user["company_id"]
        category = self.get("transaction_categories", company_id, row["expense_category_id"])
        lines = [{"account_id": category["account_id"], "debit": row["amount"], "credit": "0.000",
                  "description": "Expense amount", "cost_center_id": row.get("cost_center_id")}]
        if dec(row["tax_amount"]):
            tax_rate = self.get("tax_rates", company_id, row["tax_rate_id"])
            lines.append({"account_id": tax_rate["account_id"], "debit": row["tax_amount"], "credit": "0.000",
                          "description": "Tax amount", "cost_center_id": row.get("cost_center_id")})
        lines.append({"account_id": row["paying_account_id"], "debit": "0.000", "credit": row["total_amount"],
                      "description": "Total payment", "cost_center_id": None})
        journal = self._journal(company_id, row, lines, reversal_of=None)
        row.update(status="approved", journal_entry_id=journal["id"], approved_by=user["id"], approved_at=now_ts(),
                   updated_at=now_ts())
        return row

    def expense_cancel(self, user: dict, row: dict) -> dict:
        if row["status"] != "approved":
            raise Invalid({"status": ["Only approved expenses can be cancelled."]})
        on = row["date"]
        if is_closed(on, self.closed_through):
            on = date.today().isoformat()
            self._refuse_closed({"date": on})
        original = self.tables["journal_entries"][row["journal_entry_id"]]
        mirror = [{**line, "debit": line["credit"], "credit": line["debit"], "description": "Reversal: " + line["description"]}
                  for line in original["lines"]]
        journal = self._journal(user["company_id"], row, mirror, reversal_of=original["id"], on=on)
        if on != row["date"]:
            journal["description"] = (f"Reversal of {row['document_number']} (original date {row['date']}): "
                                      f"{row['description']}")[:255]
        original["reversed_by"] = journal["id"]
        row.update(status="cancelled", updated_at=now_ts(), cancelled_journal_entry_id=journal["id"])
        return row

    def edit_total(self, row: dict, total: Decimal) -> None:
        """An approved expense changed in Moon's UI: the total (tax kept) and its journal's lines."""
        tax = dec(row["tax_amount"])
        row.update(amount=amount_str(total - tax), total_amount=amount_str(total), updated_at=now_ts())
        journal = self.tables["journal_entries"].get(row.get("journal_entry_id"))
        if journal:
            lines = journal["lines"]
            lines[0]["debit"], lines[-1]["credit"] = row["amount"], row["total_amount"]
            journal.update(total_debit=row["total_amount"], total_credit=row["total_amount"])

    def manual_journal(self, company_id: int, on: str, lines: list[dict], description: str) -> dict:
        """A journal entry a person posts in Moon's UI (the API has none): no expense behind it."""
        self._refuse_closed({"date": on})
        header = {"id": None, "date": on, "document_number": "", "description": description}
        journal = self._journal(company_id, header, lines, reversal_of=None)
        journal.update(source_type="manual", source_id=None)
        return journal

    def _journal(self, company_id: int, expense: dict, lines: list[dict], *, reversal_of, on: str = "") -> dict:
        debit = sum(dec(line["debit"]) for line in lines)
        credit = sum(dec(line["credit"]) for line in lines)
        assert debit == credit, "the sandbox never posts an unbalanced journal entry"
        journal_id = self.next_id("journal_entries")
        on = on or expense["date"]
        row = {"id": journal_id, "company_id": company_id, "entry_number": f"JE-{on[:4]}-{journal_id:05d}",
               "date": on, "status": "posted", "source_type": "expense", "source_id": expense["id"],
               "reference": expense["document_number"], "description": expense["description"],
               "reversal_of": reversal_of, "reversed_by": None, "total_debit": amount_str(debit),
               "total_credit": amount_str(credit), "lines": lines, "created_at": now_ts()}
        self.tables["journal_entries"][journal_id] = row
        return row

    def balances(self, company_id: int) -> dict[str, Decimal]:
        """Account code → debit minus credit over posted journal entries (for ledger assertions)."""
        out: dict[str, Decimal] = {}
        for journal in self.rows("journal_entries", company_id):
            for line in journal["lines"]:
                code = self.tables["accounts"][line["account_id"]]["code"]
                out[code] = out.get(code, Decimal(0)) + dec(line["debit"]) - dec(line["credit"])
        return out
