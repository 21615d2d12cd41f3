"""Validation in the sandbox: the OpenAPI schema first (required, types, enums, lengths, so
messages name the same fields Wafeq's drf-standardized-errors would), then the business rules
the vendor notes call for (references exist, paid-through accounts are payment-enabled,
classification pairs, unique account codes, balanced journals)."""

from datetime import date
from decimal import Decimal

from . import spec as wspec

SUB_CLASS_PARENT = {
    "INCOME": "REVENUE", "OTHER_INCOME": "REVENUE", "COGS": "EXPENSE", "OPERATING_EXPENSE": "EXPENSE",
    "NON_OPERATING_EXPENSE": "EXPENSE", "CASH_EQUIVALENTS": "ASSET", "CURRENT_ASSET": "ASSET",
    "NON_CURRENT_ASSET": "ASSET", "FIXED_ASSET": "ASSET", "CURRENT_LIABILITY": "LIABILITY",
    "NON_CURRENT_LIABILITY": "LIABILITY",
}

REFS = {  # field → collection its id must exist in
    "account": "accounts", "paid_through_account": "accounts", "tax_rate": "tax-rates", "contact": "contacts",
    "project": "projects", "cost_center": "cost-centers", "branch": "branches", "parent": "accounts",
}


def validate_schema(schema_name: str, body: dict) -> list[tuple[str, str, str]]:
    out = []
    for err in wspec.write_validator(schema_name).iter_errors(body):
        path = ".".join(str(p) for p in err.absolute_path)
        if err.validator == "required":
            missing = err.message.split("'")[1]
            out.append((f"{path}.{missing}" if path else missing, "required", "This field is required."))
        elif err.validator == "enum":
            out.append((path, "invalid_choice", f'"{err.instance}" is not a valid choice.'))
        elif err.validator in ("maxLength",):
            out.append((path, "max_length", f"Ensure this field has no more than {err.validator_value} characters."))
        elif err.validator == "readOnly":
            continue
        else:
            out.append((path, "invalid", err.message[:200]))
    return out

def business_rules(store: dict, name: str, row: dict, existing: dict | None) -> list[tuple[str, str, str]]:
    out = []
    refs = dict(REFS)
    if name == "manual-journals":
        for i, li in enumerate(row.get("line_items") or []):
            out += [(f"line_items.{i}.{a}", c, d) for a, c, d in business_rules(store, "line", li, None)]
        total = sum(Decimal(str(li.get("amount_to_bcy", 0))) for li in row.get("line_items") or [])
        if not out and total != 0:
            out.append(("line_items", "invalid", "Debits and credits must balance."))
        return out
    for fieldname, collection in refs.items():
        value = row.get(fieldname)
        if value and not (name == "bank-accounts" and fieldname == "account") \
                and value not in store[collection]:
            out.append((fieldname, "does_not_exist", f'Invalid pk "{value}" - object does not exist.'))
    for fieldname in ("date",):
        if fieldname in row:
            try:
                date.fromisoformat(str(row[fieldname]))
            except ValueError:
                out.append((fieldname, "invalid", "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."))
    if name == "expenses":
        paid = store["accounts"].get(row.get("paid_through_account") or "")
        if paid and not paid.get("is_payment_enabled"):
            out.append(("paid_through_account", "invalid", "The paid through account must be payment-enabled."))
        for i, att in enumerate(row.get("attachments") or []):
            if att not in store["files"]:
                out.append((f"attachments.{i}", "does_not_exist", f'Invalid pk "{att}" - object does not exist.'))
    if name == "accounts":
        parent_class = SUB_CLASS_PARENT.get(row.get("sub_classification"))
        if parent_class and row.get("classification") and parent_class != row["classification"]:
            out.append(("sub_classification", "invalid",
                        f'"{row["sub_classification"]}" is not valid for classification {row["classification"]}.'))
        code = row.get("account_code")
        if any(a["account_code"] == code and a is not existing for a in store["accounts"].values()):
            out.append(("account_code", "unique", "account with this account code already exists."))
    return out

