"""AccountingEntry → Xledger GL import rows, and the GraphQL documents the connector sends.
Pure: no network, no database.

One entry is one voucher: every line becomes an `AddGLImportItemsInput` of the same
`addGLImportItems` call (Xledger recommends all lines of a voucher in one call), each carrying
our reference in `extIdentifier`. Amounts are signed strings (debit positive) that net to zero.
In a foreign currency, `invoiceAmount` carries the document amount and `amount` the base-currency
amount at the entry's rate; the paid-through side stays exact and another line absorbs the
rounding, so the voucher balances and its total is the document's.
The paid-through line counter-posts to the employee's subledger when one is known (the contract's
voucher design; optional in the schema as far as public clients show).
A dimension kind no GL import field carries is refused, never dropped: the voucher would book
without a dimension the mapping asked for.
Documents ask for nothing but the ids they need: every request is billed beyond 5,000 a month.
Filters use only the documented `modifiedAt_gte`, except `LOOKUP`, which is sent only where the
schema was seen to have its reference filters (lookup.py).
"""

from decimal import Decimal

from .. import fidelity as F
from ..entry import ZERO, AccountingEntry, EntryKind, EntryLine, LineRole
from ..errors import UnsupportedEntry
from ..money import minor_exponent, round_money

TEXT_LENGTH = 250
GL_OBJECT_SLOTS = 5
PAGE = 10_000

ADD_VOUCHER = """mutation AddVoucher($inputs: [AddGLImportItemsInput!]!) {
  addGLImportItems(inputs: $inputs) { edges { clientId node { dbId } } }
}"""

# Only for a schema shown to have these (unknown to the contract) reference filters: lookup.py.
LOOKUP = """query Lookup($refs: [String!]) {
  items: glImportItems(first: 10000, filter: {extIdentifier_in: $refs}) {
    edges { node { dbId extIdentifier amount createdAt } } pageInfo { hasNextPage }
  }
  reversals: glImportItems(first: 10000, filter: {yourReference_in: $refs}) {
    edges { node { dbId yourReference extIdentifier createdAt } }
  }
  errors: glImportItemErrors(first: 10000, filter: {objectValue_in: $refs}) {
    edges { node { dbId message objectValue createdAt } }
  }
}"""

# Error rows are not edited after they are written, so modifiedAt_gte a row's createdAt finds it
# and everything newer.
IMPORT_ERRORS = """query ImportErrors($since: DateTime, $after: String) {
  glImportItemErrors(first: 10000, after: $after, filter: {modifiedAt_gte: $since}) {
    edges { cursor node { dbId createdAt message objectValue transactionDbId errorLevel { code name } } }
    pageInfo { hasNextPage }
  }
}"""

WINDOW_ROOTS = {"items": ("glImportItems", "dbId extIdentifier yourReference amount createdAt"),
                "errors": ("glImportItemErrors", "dbId message objectValue createdAt")}

# Introspection works with a token (C0); the filter type's name is not known, so it is read
# through the root fields' `filter` argument.
LOOKUP_FILTERS = """query LookupFilters { __schema { queryType { fields { name
  args { name type { name inputFields { name } ofType { name inputFields { name } } } } } } } }"""

ENTITY = "query Entity { entities(first: 1) { edges { node { dbId code description currency { code } } } } }"


def window_lookup(roots) -> str:
    """Import rows and/or import errors modified since `$since`, one page each (`$<root>After`)."""
    variables = ", ".join(f"${root}After: String" for root in roots)
    parts = [f"{root}: {name}(first: {PAGE}, after: ${root}After, filter: {{modifiedAt_gte: $since}}) "
             f"{{ edges {{ cursor node {{ {WINDOW_ROOTS[root][1]} }} }} pageInfo {{ hasNextPage }} }}"
             for root, name in ((r, WINDOW_ROOTS[r][0]) for r in roots)]
    return f"query LookupWindow($since: DateTime, {variables}) {{ {' '.join(parts)} }}"


def list_query(root: str, fields: str, args: str = "") -> str:
    """A paged list query for one root field, asking only for `fields`."""
    extra = f", {args}" if args else ""
    return (f"query List($after: String) {{ {root}(first: {PAGE}, after: $after{extra}) "
            f"{{ edges {{ cursor node {{ {fields} }} }} pageInfo {{ hasNextPage }} }} }}")


class UnsupportedDimension(UnsupportedEntry):
    code = "unsupported_dimension"


def reference(remote_id: str) -> dict:
    """Catalog ids are dbIds (digits); anything else is treated as a code."""
    return {"dbId": remote_id} if remote_id.isdigit() else {"code": remote_id}


def money(amount: Decimal, currency: str) -> str:
    return format(round_money(amount, currency), "f")


def dimension_field(kind: str) -> str | None:
    """Mapping kinds → GL import fields: gl_object:1…5, project, xgl."""
    if kind.startswith("gl_object:"):
        slot = kind.split(":", 1)[1]
        if slot.isdigit() and 1 <= int(slot) <= GL_OBJECT_SLOTS:
            return f"glObject{slot}"
        return None
    return kind if kind in ("project", "xgl") else None


def _base_amounts(entry: AccountingEntry, base_currency: str, rate_currency: str = "") -> list[Decimal]:
    nets = [line.net for line in entry.lines]
    if not base_currency or entry.currency == base_currency:
        return nets
    if entry.exchange_rate is None or (rate_currency and rate_currency != base_currency):
        raise UnsupportedEntry(f"{entry.currency} entry without an exchange rate to {base_currency}",
                               "exchange_rate")
    return entry.converted_nets(base_currency)


def _ledger_account(line: EntryLine, bank_ledger: dict[str, str]) -> str:
    if line.role is LineRole.BANK:
        if line.account not in bank_ledger:
            raise UnsupportedEntry(f"the funding bank account {line.account} is not one of Xledger's bank accounts "
                                   "(or has no ledger account); choose the funding bank again", "funding_bank_account")
        return bank_ledger[line.account]
    return line.account


def _text(entry: AccountingEntry, line: EntryLine) -> str:
    return (line.description or entry.description or entry.description_ar or entry.merchant
            or entry.reference)[:TEXT_LENGTH]


def voucher_inputs(entry: AccountingEntry, *, base_currency: str = "", your_reference: str = "",
                   transaction_source: str = "GL", subledger: str = "",
                   bank_ledger: dict[str, str] | None = None, rate_currency: str = "") -> list[dict]:
    """`rate_currency` is what the entry's rate converts to (the organisation's base currency).
    `bank_ledger` maps a bank account's dbId to its GL account's: a BANK line names the bank
    account (the funding bank the connection chose), but an import row posts to a ledger account."""
    bank_ledger = bank_ledger or {}
    if entry.kind is EntryKind.STATEMENT_TRANSACTION:
        raise UnsupportedEntry("Xledger's GL import has no bank statement rows", "kind")
    if base_currency:
        minor_exponent(base_currency)     # fails early on an unknown code
    base = _base_amounts(entry, base_currency, rate_currency)
    foreign = bool(base_currency) and entry.currency != base_currency
    posted = entry.date.isoformat()
    inputs = []
    for i, (line, amount) in enumerate(zip(entry.lines, base, strict=True)):
        node = {"trRegNumber": int(entry.date.strftime("%Y%m%d")), "transactionSource": {"code": transaction_source},
                "postedDate": posted, "invoiceDate": posted, "account": reference(_ledger_account(line, bank_ledger)),
                "amount": money(amount, base_currency or entry.currency), "text": _text(entry, line),
                "extIdentifier": entry.reference, "currency": {"code": entry.currency}}
        if foreign:
            node["invoiceAmount"] = money(line.net, entry.currency)
            node["exchangeRate"] = format(entry.exchange_rate, "f")
        if line.tax_rate:
            node["taxRule"] = {"code": line.tax_rate}
            if line.tax_amount:
                node["taxAmount"] = money(line.tax_amount if line.debit else -line.tax_amount, entry.currency)
        for dim in line.dimensions:
            field = dimension_field(dim.kind)
            if not field:
                raise UnsupportedDimension(
                    f"Xledger's GL import has no field for the dimension kind {dim.kind!r} "
                    f"(it takes gl_object:1…{GL_OBJECT_SLOTS}, project, xgl); fix the dimension mapping",
                    f"dimensions.{dim.kind}")
            node[field] = reference(dim.remote_id)
        if subledger and line.role is LineRole.PAID_THROUGH:
            node["subledger"] = {"code": subledger}
        if your_reference:
            node["yourReference"] = your_reference
        inputs.append({"clientId": str(i), "node": node})
    return inputs


def voucher_total(amounts: list) -> Decimal:
    """What a voucher moved: Σ positive amounts (the document's gross in base currency)."""
    return sum((Decimal(str(a)) for a in amounts if a is not None and Decimal(str(a)) > 0), ZERO)


# Where each Expensico field lands in an Xledger GL import voucher, or why it cannot: rendered
# into connectors/FIDELITY.md, proven by tests/contract/test_fidelity.py.
_NO_FIELD = "a GL import row has no field for it"
FIDELITY = {
    "description": F.Lands("text", read=F.memo, expect=lambda e: e.description[:TEXT_LENGTH]),
    "description_ar": F.Lands("text", note="when the source has no English one; no second-language field",
                              read=F.memo, expect=lambda e: e.description_ar[:TEXT_LENGTH], prepare=F.arabic_only),
    "merchant": F.Cannot("no merchant field on a GL import row"),
    "employee": F.Lands("text", note="of the paid-through row", read=F.credit_line_text,
                        expect=lambda e: e.employee, prepare=F.with_employee),
    "report": F.Cannot(_NO_FIELD),
    "approved_by": F.Cannot(_NO_FIELD),
    "category": F.Lands("account", note="the mapped ledger account", read=F.debited_accounts,
                        expect=F.expense_account),
    "expense_type": F.Cannot(_NO_FIELD),
    "dimensions": F.Lands("glObject1…5, project, xgl", proof="tests/connectors/xledger/test_connector.py::"
                          "test_voucher_lines_go_in_one_call_with_dimensions"),
    "custom_fields": F.Cannot(_NO_FIELD),
    "receipts": F.Cannot("GL import rows carry no attachment"),
    "exchange_rate": F.Lands("exchangeRate", note="with invoiceAmount in the document currency",
                             proof="tests/connectors/xledger/test_fidelity.py::"
                                   "test_a_foreign_claim_books_by_default_in_its_currency_with_expensicos_rate"),
    "tax": F.Lands("taxRule, taxAmount", read=F.held_tax, expect=F.sent_tax),
    "tax_treatment": F.Cannot("an import row's amount is the gross with its tax amount; no inclusive/exclusive flag"),
    "card_last4": F.Cannot(_NO_FIELD),
    "bank_reference": F.Cannot("GL import has no bank statement rows; bank-side vouchers carry our reference"),
}
