"""`ensure_account` for Business Central: a bank account through API v2.0, a G/L account through
the Chart of Accounts page published as an OData V4 web service (API v2.0 `accounts` is read-only)."""

from typing import Any

from ..base import AccountPurpose, AccountSpec, CatalogItem, CatalogKind
from ..errors import Permanent
from . import catalog as bc_catalog
from . import schema

ACCOUNT_SHAPES = {   # purpose → (category, subcategory, number range)
    AccountPurpose.EMPLOYEE_CLAIMS: ("Liabilities", "Current Liabilities", range(2190, 2300)),
    AccountPurpose.EMPLOYEES_BALANCE: ("Assets", "Current Assets", range(1390, 1500)),
}


def ensure_account(connector: Any, spec: AccountSpec) -> CatalogItem:
    client = connector.client
    name = spec.name[:100]
    if spec.purpose is AccountPurpose.FUNDING_BANK:
        for item in connector.catalog(CatalogKind.BANK_ACCOUNTS):
            if item.name == name:
                return item
        used = {i.code for i in connector.catalog(CatalogKind.BANK_ACCOUNTS)}
        number = next(f"EXP{n:02d}" for n in range(1, 100) if f"EXP{n:02d}" not in used)
        row = client.request("POST", connector.cp("bankAccounts"),
                             json_body={"number": number, "displayName": name}).body
        return bc_catalog.bank_item(row)
    every = client.list_all(connector.cp("accounts"))
    for row in every:
        if row["displayName"] == name and row["accountType"] == "Posting":
            return bc_catalog.account_item(row)
    category, subcategory, numbers = ACCOUNT_SHAPES[spec.purpose]
    used = {row["number"] for row in every}
    number = next(str(n) for n in numbers if str(n) not in used)
    # API v2.0 `accounts` is read-only; the Chart of Accounts page published as an OData V4
    # web service is the documented way to insert G/L accounts from outside.
    try:
        client.request("POST", connector.odata_page("Chart_of_Accounts"), json_body={
            "No": number, "Name": name, "Account_Type": "Posting", "Income_Balance": "Balance Sheet",
            "Account_Category": category, "Account_Subcategory_Descript": subcategory, "Direct_Posting": True})
    except Permanent as exc:
        if exc.status == 404:
            raise Permanent(f"create the G/L account {name!r} in Business Central (or publish page 16 "
                            f"'Chart of Accounts' as a web service)", code="account_missing") from exc
        raise
    rows = client.list_all(connector.cp("accounts"), **{"$filter": f"number eq {schema.odata_quote(number)}"})
    return bc_catalog.account_item(rows[0])
