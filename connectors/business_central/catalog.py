"""Business Central reads: the catalogs for the mapping screens and the batched reference lookup.

Lookups go out as one `$batch` of GETs (≤100 operations, so ≥16 references per call): one call
whatever the number of references, and, being reads, safe to retry even though `$batch` is a POST.
"""

from decimal import Decimal
from urllib.parse import quote

from ..base import CatalogItem, CatalogKind, RemoteDocument
from ..entry import ZERO
from . import schema

CATEGORIES = {"Assets": "ASSET", "Liabilities": "LIABILITY", "Equity": "EQUITY", "Income": "REVENUE",
              "Cost of Goods Sold": "EXPENSE", "Expense": "EXPENSE"}
CURRENT = {("Assets", "Current Assets"): "CURRENT_ASSET", ("Assets", "Cash"): "CASH_EQUIVALENTS",
           ("Liabilities", "Current Liabilities"): "CURRENT_LIABILITY"}


def account_item(row: dict) -> CatalogItem:
    category = row.get("category", "")
    return CatalogItem(kind=CatalogKind.ACCOUNTS, remote_id=row["id"], name=row["displayName"], code=row["number"],
                       classification=CATEGORIES.get(category, category.upper()), active=not row.get("blocked"),
                       extra={"sub_classification": CURRENT.get((category, row.get("subCategory", "")), ""),
                              "category": category, "subCategory": row.get("subCategory", ""),
                              "directPosting": row.get("directPosting", False)})


def bank_item(row: dict) -> CatalogItem:
    return CatalogItem(kind=CatalogKind.BANK_ACCOUNTS, remote_id=row["id"], name=row["displayName"],
                       code=row["number"], classification="BANK", active=not row.get("blocked"),
                       extra={"currency": row.get("currencyCode", ""), "iban": row.get("iban", ""), "account": ""})


def fetch(connector, kind: CatalogKind) -> list[CatalogItem]:
    client, cp = connector.client, connector.cp
    if kind is CatalogKind.ACCOUNTS:
        # Fyle's rule: only posting accounts that accept direct posting can take a journal line.
        return [account_item(r) for r in client.list_all(cp("accounts"))
                if r["accountType"] == "Posting" and r.get("directPosting")]
    if kind is CatalogKind.BANK_ACCOUNTS:
        return [bank_item(r) for r in client.list_all(cp("bankAccounts"))]
    if kind is CatalogKind.TAX_RATES:
        # Journal and invoice lines take the code (`taxCode`), so the code is the remote id.
        return [CatalogItem(kind=kind, remote_id=r["code"], name=r["displayName"], code=r["code"],
                            classification=r.get("taxType", ""), extra={"rate": r.get("rate", "")})
                for r in client.list_all(cp("taxGroups"))]
    if kind is CatalogKind.DIMENSIONS:
        items = []
        for dim in client.list_all(cp("dimensions"), **{"$expand": "dimensionValues"}):
            for value in dim.get("dimensionValues", []):
                items.append(CatalogItem(kind=kind, remote_id=value["id"], name=value["displayName"],
                                         code=value["code"], classification=f"{schema.DIMENSION_PREFIX}{dim['code']}",
                                         extra={"dimension_id": dim["id"], "dimension": dim["displayName"]}))
        return items
    if kind is CatalogKind.CONTACTS:
        return [CatalogItem(kind=kind, remote_id=r["id"], name=r["displayName"], code=r["number"],
                            classification="vendor", active=r.get("blocked", False) in (False, "", " "),
                            extra={"email": r.get("email", "")})
                for r in client.list_all(cp("vendors"))]
    if kind is CatalogKind.CURRENCIES:
        return [CatalogItem(kind=kind, remote_id=r["code"], name=r["displayName"], code=r["code"],
                            extra={"decimals": r.get("amountDecimalPlaces", "")})
                for r in client.list_all(cp("currencies"))]
    raise ValueError(f"unknown catalog kind {kind}")


def _filter(field: str, value: str) -> str:
    return "?$filter=" + quote(f"{field} eq {schema.odata_quote(value)}", safe="'")


def _journal_ops(connector, number: str) -> list[dict]:
    ops = [{"method": "GET", "url": connector.cp("generalLedgerEntries") + _filter("documentNumber", number)}]
    if connector.connection.settings.get("journal_id"):
        ops.insert(0, {"method": "GET", "url": connector.cp(f"journals({connector.journal_id()})/journalLines")
                       + _filter("documentNumber", number)})
    return ops


def _values(responses: list[dict], start: int, count: int) -> list[list[dict]]:
    out = []
    for item in responses[start:start + count]:
        out.append((item.get("body") or {}).get("value", []) if int(item.get("status", 500)) == 200 else [])
    return out


def journal_state(connector, short: str, reversal: str) -> dict:
    """Unposted lines, posted entries, and whether a reversing document exists, in one call."""
    ops = _journal_ops(connector, short) + (_journal_ops(connector, reversal) if reversal else [])
    per = len(_journal_ops(connector, short))
    results = _values(connector.client.batch(ops, read_only=True), 0, len(ops))
    lines = results[0] if per == 2 else []
    posted = results[per - 1]
    reversed_ = any(results[per:])
    return {"lines": lines, "posted": posted, "reversed": reversed_}


def lookup(connector, references: list[str]) -> dict[str, RemoteDocument]:
    if not references:
        return {}
    ops, layout = [], []
    for reference in references:
        short = schema.short_reference(reference)
        reversal = schema.short_reference("R:" + reference)
        group = (_journal_ops(connector, short) + _journal_ops(connector, reversal)
                 + [{"method": "GET", "url": connector.cp("purchaseCreditMemos")
                     + _filter("vendorCreditMemoNumber", reversal)},
                    {"method": "GET", "url": connector.cp("purchaseInvoices") + _filter("vendorInvoiceNumber", short)}])
        layout.append((reference, short, len(ops), len(group)))
        ops.extend(group)
    responses = connector.client.batch(ops, read_only=True)
    found = {}
    for reference, short, start, count in layout:
        results = _values(responses, start, count)
        half = (count - 2) // 2
        own, reversal, invoices = results[:half], results[half:2 * half + 1], results[-1]
        if any(reversal):
            continue                       # reversed in BC (journal or credit memo): no longer held
        lines = own[0] if half == 2 else []
        posted = own[-1]
        if lines:
            found[reference] = RemoteDocument(reference=reference, external_id=f"GJ:{short}", status="unposted",
                                              amount=str(schema.journal_total(lines)))
        elif posted:
            debit = sum((Decimal(str(e["debitAmount"])) for e in posted), ZERO)
            found[reference] = RemoteDocument(reference=reference, external_id=f"GJ:{short}", status="posted",
                                              amount=str(debit))
        live = [i for i in invoices if i.get("status") not in ("Canceled", "Corrective")]
        if live and reference not in found:
            inv = live[-1]
            found[reference] = RemoteDocument(reference=reference, external_id=f"PI:{inv['id']}",
                                              status=inv.get("status", ""),
                                              amount=str(Decimal(str(inv.get("totalAmountIncludingTax", 0)))))
    return found
