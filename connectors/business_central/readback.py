"""Business Central's own copy of a connection's documents (the `read_back` capability), read
the way the contract documents it (vendor-apis/business-central.md A4, A6):

- unposted journal documents: the connection's journal batch, `journals({id})/journalLines`
  with `$filter=postingDate ge … and postingDate le …` (status draft);
- posted documents: `generalLedgerEntries` with the same `$filter` (status posted), grouped by
  `documentNumber`; a document whose entries cancel out on every account (reversed by hand
  under its own number) reads as cancelled.

Pages ask for `Prefer: odata.maxpagesize=20000`, the documented online maximum. By reference,
one `$batch` of filtered GETs per 50 references (two reads each, 100 operations per batch).

References: BC's Code[20] fields hold `schema.short_reference(reference)`. An unposted line
carries our full reference in `comment`; a G/L entry only the number, so a posted document's
`reference` is that number (`vendor_reference` gives it for any reference of ours), except when
read by references, where it is mapped back. A number outside our scheme (a person's journal)
reads as reference "".

A connection in purchase-invoice mode also reads `purchaseInvoices` in the range with
`$expand=purchaseInvoiceLines` (one request): a draft invoice is a draft document (its lines, and
the payable as a credit on the vendor), a posted one tells which G/L entries (numbered by BC's own
invoice number) are ours: they read as `PI:<invoice id>` with our reference. By reference, only
journal documents are read (an invoice carries our reference in `vendorInvoiceNumber`, which the
date-range read maps). `ledger_balance` stays None: the contract documents no balance query over
a date range (`accounts.netChange` takes no dates).
"""

from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import date
from decimal import Decimal

from ..base import ReadBackPage, VendorDocument, VendorLine
from ..money import round_money
from . import schema
from .catalog import Reads
from .catalog import _by as by
from .settings import BusinessCentralSettings

READ_BACK_PAGE_SIZE = 20000
OUR_PREFIX = "EXP-"


def money(value) -> Decimal:
    return Decimal(str(value))


def our_reference(number: str, comment: str = "", known: dict[str, str] | None = None) -> str:
    """Our full reference where it can be told, else BC's number for ours, else "" (not ours)."""
    if known and number in known:
        return known[number]
    if comment and schema.short_reference(comment) == number:
        return comment
    return number if number.startswith(OUR_PREFIX) else ""


def _side(account: str, amount: Decimal, **kw) -> VendorLine:
    return VendorLine(account=account, debit=max(amount, Decimal(0)), credit=max(-amount, Decimal(0)), **kw)


def _gross(lines) -> Decimal:
    net = defaultdict(Decimal)
    for line in lines:
        net[line.account] += line.debit - line.credit
    return sum((v for v in net.values() if v > 0), Decimal(0))


def journal_documents(rows: list[dict], *, currency: str, tax_rates: dict[str, Decimal],
                      known: dict[str, str]) -> list[VendorDocument]:
    """A line with a balancing account is a document of its own; other lines group by number.
    A second document under the same number (a copy) gets `GJ:<number>#<n>`."""
    groups: dict[tuple, list[dict]] = {}
    for row in sorted(rows, key=lambda r: r.get("lineNumber", 0)):
        if row["documentNumber"].startswith("P-"):      # half-made (schema.pending_number): not a document yet
            continue
        key = (row["documentNumber"], row["id"]) if row.get("balancingAccountId") else (row["documentNumber"],)
        groups.setdefault(key, []).append(row)
    seen: dict[str, int] = defaultdict(int)
    out = []
    for key, group in groups.items():
        number = key[0]
        seen[number] += 1
        lines = []
        for row in group:
            amount, code = money(row["amount"]), row.get("taxCode") or None
            rate = tax_rates.get(code or "", Decimal(0))
            tax = round_money(abs(amount) * rate / (100 + rate), currency) if rate else Decimal(0)
            lines.append(_side(row["accountId"], amount, tax_rate=code, tax_amount=tax,
                               description=row.get("description", "")))
            if row.get("balancingAccountId"):
                lines.append(_side(row["balancingAccountId"], -amount, description=row.get("description", "")))
        first = group[0]
        out.append(VendorDocument(
            reference=our_reference(number, first.get("comment", ""), known),
            external_id=f"GJ:{number}" if seen[number] == 1 else f"GJ:{number}#{seen[number]}",
            date=date.fromisoformat(first["postingDate"]), currency=currency, amount=_gross(lines), status="draft",
            lines=tuple(lines), memo=first.get("description", ""), raw={"journalLines": group}))
    return out


def invoice_document(row: dict, *, currency: str, tax_rates: dict[str, Decimal]) -> VendorDocument:
    lines = []
    for line in row.get("purchaseInvoiceLines") or []:
        gross, code = money(line["amountIncludingTax"]), line.get("taxCode") or None
        rate = tax_rates.get(code or "", Decimal(0))
        tax = round_money(gross * rate / (100 + rate), currency) if rate else Decimal(0)
        lines.append(_side(line["accountId"], gross, tax_rate=code, tax_amount=tax,
                           description=line.get("description", "")))
    lines.append(_side(row["vendorId"], -sum((ln.debit for ln in lines), Decimal(0))))
    return VendorDocument(
        reference=our_reference(row["vendorInvoiceNumber"], (row.get("purchaseInvoiceLines") or [{}])[0].get(
            "description2", "")), external_id=f"PI:{row['id']}", date=date.fromisoformat(row["postingDate"]),
        currency=row.get("currencyCode") or currency, amount=_gross(lines), status="draft", lines=tuple(lines),
        memo=row.get("vendorName", ""), raw=row)


def ledger_documents(rows: list[dict], *, currency: str, known: dict[str, str],
                     invoices: dict[str, dict] | None = None) -> list[VendorDocument]:
    """`invoices`: posted purchase invoices by BC's own number, whose G/L entries are ours."""
    invoices = invoices or {}
    groups: dict[str, list[dict]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: r.get("entryNumber", 0)):
        groups[row["documentNumber"]].append(row)
    out = []
    for number, group in groups.items():
        lines = tuple(VendorLine(account=r["accountId"], debit=money(r["debitAmount"]), credit=money(r["creditAmount"]),
                                 description=r.get("description", "")) for r in group)
        gross = _gross(lines)
        invoice = invoices.get(number)
        out.append(VendorDocument(
            reference=our_reference(invoice["vendorInvoiceNumber"], known=known) if invoice
            else our_reference(number, known=known),
            external_id=f"PI:{invoice['id']}" if invoice else f"GJ:{number}",
            date=date.fromisoformat(group[0]["postingDate"]), currency=currency, amount=gross,
            status="posted" if gross else "cancelled", lines=lines, memo=group[0].get("description", ""),
            raw={"generalLedgerEntries": group}))
    return out


def _date_filter(date_from: date | None, date_to: date | None) -> str | None:
    clauses = [f"postingDate ge {date_from.isoformat()}"] if date_from else []
    clauses += [f"postingDate le {date_to.isoformat()}"] if date_to else []
    return " and ".join(clauses) or None


class BusinessCentralReadBack:
    def __init__(self, connector):
        self.connector, self.client = connector, connector.client
        settings = BusinessCentralSettings.of(connector.connection)
        self.currency = settings.lcy or connector.connection.organization.base_currency
        self.journal = settings.journal_id if connector.mode == "journal" else None
        self._tax_rates: dict[str, Decimal] | None = None

    def pages(self, *, date_from, date_to, references: Sequence[str]) -> Iterator[ReadBackPage]:
        references = list(dict.fromkeys(references))
        if date_from or date_to or not references:
            yield from self._by_dates(date_from, date_to)
        if references:
            yield from self._by_references(references)

    def _by_dates(self, date_from, date_to) -> Iterator[ReadBackPage]:
        where = _date_filter(date_from, date_to)
        if self.journal:
            for rows, calls in self._read(f"journals({self.journal})/journalLines", where):
                before = self.client.calls
                docs = journal_documents(rows, currency=self.currency, tax_rates=self.tax_rates(), known={})
                yield ReadBackPage(tuple(docs), calls + self.client.calls - before)
        invoices, spent = {}, 0
        if self.connector.mode == "purchase_invoice":
            drafts = []
            for rows, calls in self._read("purchaseInvoices", where, expand="purchaseInvoiceLines"):
                spent += calls
                before = self.client.calls
                drafts += [invoice_document(r, currency=self.currency, tax_rates=self.tax_rates())
                           for r in rows if r["status"] == "Draft"]
                spent += self.client.calls - before
                invoices.update({r["number"]: r for r in rows if r["status"] != "Draft"})
            yield ReadBackPage(tuple(drafts), spent)
            spent = 0
        # A document's entries may straddle two pages: grouped once all pages are in.
        entries = []
        for rows, calls in self._read("generalLedgerEntries", where):
            entries += rows
            spent += calls
        yield ReadBackPage(tuple(ledger_documents(entries, currency=self.currency, known={}, invoices=invoices)),
                           spent)

    def _by_references(self, references: list[str]) -> Iterator[ReadBackPage]:
        known = {schema.short_reference(ref): ref for ref in references}
        numbers = list(known)
        for start in range(0, len(numbers), schema.MAX_BATCH // 2):
            reads = Reads(self.connector)
            for number in numbers[start:start + schema.MAX_BATCH // 2]:
                if self.journal:
                    reads.add(("journal", number), f"journals({self.journal})/journalLines" + by("documentNumber", number))
                reads.add(("posted", number), "generalLedgerEntries" + by("documentNumber", number))
            before = self.client.calls
            self.tax_rates()
            got = reads.run()
            rows = defaultdict(list)
            for (kind, _), value in got.items():
                rows[kind] += value
            docs = journal_documents(rows["journal"], currency=self.currency, tax_rates=self._tax_rates, known=known)
            docs += ledger_documents(rows["posted"], currency=self.currency, known=known)
            yield ReadBackPage(tuple(docs), self.client.calls - before)

    def _read(self, path: str, where: str | None, expand: str = ""):
        params = {"$filter": where} if where else {}
        if expand:
            params["$expand"] = expand
        return self.client.pages(self.connector.cp(path), page_size=READ_BACK_PAGE_SIZE, **params)

    def tax_rates(self) -> dict[str, Decimal]:
        """The rate the catalog shows for each tax group code (percent); read once, counted on the
        first page that needed it."""
        if self._tax_rates is None:
            self._tax_rates = {r["code"]: money(r.get("rate") or 0)
                               for r in self.client.list_all(self.connector.cp("taxGroups"))}
        return self._tax_rates
