"""Business Central reads: the catalogs for the mapping screens and the batched reference lookup.

Lookups go out as `$batch` calls of GETs (≤100 operations: 12 references per call), and, being
reads, are safe to retry even though `$batch` is a POST.
"""

from dataclasses import dataclass
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


def unpostable_accounts(connector) -> list[CatalogItem]:
    """The accounts the ACCOUNTS catalog leaves out (headings, totals, no direct posting), so
    pre-flight can say why a mapping to one is refused rather than "not found"."""
    rows = connector.client.list_all(connector.cp("accounts"))
    return [CatalogItem(kind=CatalogKind.ACCOUNTS, remote_id=r["id"], name=r["displayName"], code=r["number"],
                        active=not r.get("blocked"), extra={"postable": False})
            for r in rows if not (r["accountType"] == "Posting" and r.get("directPosting"))]


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
                                         active=not value.get("blocked"),
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


def _by(field: str, value: str, expand: str = "") -> str:
    query = "?$filter=" + quote(f"{field} eq {schema.odata_quote(value)}", safe="'")
    return query + (f"&$expand={expand}" if expand else "")


class Reads:
    """GETs gathered into read-only `$batch` calls (POSTs, but safe to retry), answered by key."""

    def __init__(self, connector):
        self.connector, self.keys, self.ops = connector, [], []
        self.shared = connector.settings.journal_id   # the connection's journal

    def add(self, key: tuple, path: str) -> None:
        self.keys.append(key)
        self.ops.append({"method": "GET", "url": self.connector.cp(path)})

    def journal_document(self, number: str) -> None:
        """The three places a journal document can be: unposted in the connection's journal or in
        a posting journal of its own, or posted (G/L entries)."""
        if self.shared:
            self.add(("shared", number), f"journals({self.shared})/journalLines" + _by("documentNumber", number))
        self.add(("posted", number), "generalLedgerEntries" + _by("documentNumber", number))
        self.add(("own", number), "journals" + _by("code", schema.posting_journal_code(number), "journalLines"))

    def pending(self, number: str) -> None:
        """Where the pieces of a half-made document numbered `number` can be (its posting
        journal is read by `journal_document`)."""
        pending = schema.pending_number(number)
        if self.shared:
            self.add(("shared", pending), f"journals({self.shared})/journalLines" + _by("documentNumber", pending))
        self.add(("invoice", pending), "purchaseInvoices" + _by("vendorInvoiceNumber", pending))

    def run(self) -> dict[tuple, list[dict]]:
        if not self.ops:
            return {}
        responses = self.connector.client.batch(self.ops, read_only=True)
        return {key: (item.get("body") or {}).get("value", []) if int(item.get("status", 500)) == 200 else []
                for key, item in zip(self.keys, responses, strict=True)}


@dataclass
class JournalDocument:
    number: str
    shared: list[dict]          # its lines in the connection's journal (unposted)
    journal: dict | None        # its own posting journal, lines expanded, when there is one
    posted: list[dict]          # its G/L entries

    @classmethod
    def read(cls, got: dict, number: str) -> "JournalDocument":
        own = got.get(("own", number)) or []
        return cls(number, got.get(("shared", number), []), own[0] if own else None, got.get(("posted", number), []))

    @property
    def own_lines(self) -> list[dict]:
        return [ln for ln in (self.journal or {}).get("journalLines", []) if ln["documentNumber"] == self.number]

    @property
    def unposted(self) -> list[dict]:
        return self.shared + self.own_lines

    @property
    def exists(self) -> bool:
        return bool(self.unposted or self.posted)


@dataclass
class Piece:
    """Part of a half-made document: what to DELETE, and the records receipts may hang on."""
    path: str
    parents: list[str]


def half_made(reads: Reads, got: dict, doc: JournalDocument) -> list[Piece]:
    pending = schema.pending_number(doc.number)
    pieces = [Piece(f"journals({reads.shared})/journalLines({ln['id']})", [ln["id"]])
              for ln in got.get(("shared", pending), [])]
    if doc.journal and not doc.own_lines:       # deleting a journal batch deletes its lines
        pieces.append(Piece(f"journals({doc.journal['id']})", [ln["id"] for ln in doc.journal.get("journalLines", [])]))
    pieces += [Piece(f"purchaseInvoices({inv['id']})", [inv["id"]]) for inv in got.get(("invoice", pending), [])]
    return pieces


def _reference_reads(reads: Reads, reference: str) -> None:
    short, reversal = schema.short_reference(reference), schema.short_reference("R:" + reference)
    reads.journal_document(short)
    reads.journal_document(reversal)
    reads.add(("memo", reversal), "purchaseCreditMemos" + _by("vendorCreditMemoNumber", reversal))
    reads.add(("invoice", short), "purchaseInvoices" + _by("vendorInvoiceNumber", short))


def _found(got: dict, reference: str) -> RemoteDocument | None:
    short, reversal = schema.short_reference(reference), schema.short_reference("R:" + reference)
    if JournalDocument.read(got, reversal).exists or got.get(("memo", reversal)):
        return None                        # reversed in BC (journal or credit memo): no longer held
    doc = JournalDocument.read(got, short)
    if doc.unposted:
        return RemoteDocument(reference=reference, external_id=f"GJ:{short}", status="unposted",
                              amount=str(schema.journal_total(doc.unposted)))
    if doc.posted:
        debit = sum((Decimal(str(e["debitAmount"])) for e in doc.posted), ZERO)
        return RemoteDocument(reference=reference, external_id=f"GJ:{short}", status="posted", amount=str(debit))
    live = [i for i in got.get(("invoice", short), []) if i.get("status") not in ("Canceled", "Corrective")]
    if live:
        inv = live[-1]
        return RemoteDocument(reference=reference, external_id=f"PI:{inv['id']}", status=inv.get("status", ""),
                              amount=str(Decimal(str(inv.get("totalAmountIncludingTax", 0)))))
    return None


def lookup(connector, references: list[str]) -> dict[str, RemoteDocument]:
    """Whole documents only: a half-made one still carries its pending number."""
    reads = Reads(connector)
    for reference in references:
        _reference_reads(reads, reference)
    got = reads.run()
    found = {reference: _found(got, reference) for reference in references}
    return {reference: doc for reference, doc in found.items() if doc}


def resume_state(connector, reference: str) -> tuple[RemoteDocument | None, JournalDocument, list[Piece]]:
    """For a push that may have been here before, in one call: the whole document if there is
    one, and the pieces of any half-made one."""
    return resume_states(connector, [reference])[reference]


def resume_states(connector, references: list[str]) -> dict[str, tuple[RemoteDocument | None, JournalDocument,
                                                                        list[Piece]]]:
    """`resume_state` for many documents in as few read-only `$batch` calls as they fit."""
    reads = Reads(connector)
    for reference in references:
        _reference_reads(reads, reference)
        reads.pending(schema.short_reference(reference))
    got = reads.run()
    out = {}
    for reference in references:
        doc = JournalDocument.read(got, schema.short_reference(reference))
        out[reference] = (_found(got, reference), doc, half_made(reads, got, doc))
    return out


def journal_state(connector, short: str, reversal: str) -> tuple[JournalDocument, JournalDocument | None,
                                                                  list[Piece]]:
    """For a reversal, in one call: the original, its reversing document, and the pieces of a
    half-made reversing document."""
    reads = Reads(connector)
    reads.journal_document(short)
    if reversal:
        reads.journal_document(reversal)
        reads.pending(reversal)
    got = reads.run()
    if not reversal:
        return JournalDocument.read(got, short), None, []
    doc = JournalDocument.read(got, reversal)
    return JournalDocument.read(got, short), doc, half_made(reads, got, doc)
