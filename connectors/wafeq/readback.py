"""Wafeq's own copy of a connection's documents (the `read_back` capability), read the way the
contract allows (vendor-apis/wafeq.md §3, §7; the OpenAPI subset's list filters):

- expenses: `GET /expenses/` filters on one exact `date` (no range), so a date range is read one
  day at a time (a month costs ~31 requests however much history the organisation has); a
  reference is one `?reference=` query;
- manual journals: `GET /manual-journals/?date_after=&date_before=` or `?reference=`;
- ledger transactions on the funding bank (fundings, reimbursements): the list has no filters, so
  it is read whole and filtered here; the non-manual ones Wafeq makes when an expense is paid
  through a bank's account are shadows of that expense and are left out.

Pages ask for `page_size=1000`: DRF clamps a larger `page_size` to its own maximum (which Wafeq
does not publish) instead of refusing it, so asking for more never costs an error.
"""

from collections.abc import Callable, Iterator, Sequence
from datetime import date, timedelta
from decimal import Decimal

from ..base import ReadBackPage, VendorDocument, VendorLine
from ..money import round_money
from .client import WafeqClient

READ_BACK_PAGE_SIZE = 1000
STATUS = {"POSTED": "posted", "DRAFT": "draft"}
DIMENSIONS = ("cost_center", "project", "branch")


def money(value) -> Decimal:
    return Decimal(str(value))


def _dimensions(row: dict) -> tuple[tuple[str, str], ...]:
    return tuple((kind, row[kind]) for kind in DIMENSIONS if row.get(kind))


def _side(account: str, amount: Decimal, **kw) -> VendorLine:
    """Positive = debit, negative = credit."""
    return VendorLine(account=account, debit=max(amount, Decimal(0)), credit=max(-amount, Decimal(0)), **kw)


def expense_document(row: dict, tax_rates: dict[str, Decimal]) -> VendorDocument:
    amount, currency = money(row["amount"]), row["currency"]
    rate = tax_rates.get(row.get("tax_rate") or "", Decimal(0))
    if row.get("tax_amount_type") == "TAX_EXCLUSIVE":
        tax = round_money(amount * rate, currency)
        gross = amount + tax
    else:   # Wafeq splits the VAT out of an inclusive amount itself
        tax = round_money(amount * rate / (1 + rate), currency)
        gross = amount
    lines = (_side(row["account"], gross, tax_amount=tax, tax_rate=row.get("tax_rate") or None,
                   description=row.get("description", ""), dimensions=_dimensions(row)),
             _side(row["paid_through_account"], -gross))
    return VendorDocument(reference=row.get("reference", ""), external_id=row["id"], date=date.fromisoformat(row["date"]),
                          currency=currency, amount=gross, status=STATUS.get(row["status"], row["status"].lower()),
                          lines=lines, memo=row.get("description", ""), raw=row)


def journal_document(row: dict, base_currency: str) -> VendorDocument:
    items = row.get("line_items") or []
    lines = tuple(_side(li["account"], money(li["amount"]), tax_amount=money(li.get("tax_amount") or 0),
                        tax_rate=li.get("tax_rate") or None, description=li.get("description", ""),
                        dimensions=_dimensions(li)) for li in items)
    return VendorDocument(reference=row.get("reference", ""), external_id=row["id"], date=date.fromisoformat(row["date"]),
                          currency=items[0]["currency"] if items else base_currency,
                          amount=sum((line.debit for line in lines), Decimal(0)), status="posted", lines=lines,
                          memo=row.get("notes", ""), raw=row)


def ledger_transaction_document(row: dict, bank: dict) -> VendorDocument:
    """`amount` is signed, + into the bank account; `account` is the other side."""
    amount = money(row["amount"])
    lines = (_side(bank["id"], amount, description=row.get("description", "")),
             _side(row["account"], -amount, dimensions=_dimensions(row)))
    return VendorDocument(reference=row.get("reference", ""), external_id=row["id"], date=date.fromisoformat(row["date"]),
                          currency=bank["currency"], amount=abs(amount), status="posted", lines=lines,
                          memo=row.get("description", ""), raw=row)


class WafeqReadBack:
    def __init__(self, client: WafeqClient, *, bank_account: str | None, base_currency: str):
        self.client, self.bank_account, self.base_currency = client, bank_account, base_currency
        self.seen: set[str] = set()
        self._tax_rates: dict[str, Decimal] | None = None
        self._bank: dict | None = None

    def pages(self, *, date_from: date | None, date_to: date | None,
              references: Sequence[str]) -> Iterator[ReadBackPage]:
        references = list(dict.fromkeys(references))
        if date_from or date_to or not references:
            yield from self._by_dates(date_from, date_to)
        if references:
            yield from self._by_references(references)

    # Date range ------------------------------------------------------------------------
    def _by_dates(self, date_from: date | None, date_to: date | None) -> Iterator[ReadBackPage]:
        def within(row):
            day = row["date"]
            return (not date_from or day >= date_from.isoformat()) and (not date_to or day <= date_to.isoformat())

        if date_from and date_to:
            day = date_from
            while day <= date_to:
                yield from self._read("/expenses/", self._expense, date=day.isoformat())
                day += timedelta(days=1)
        else:
            yield from self._read("/expenses/", self._expense, keep=within)
        yield from self._read("/manual-journals/", self._journal, date_after=date_from and date_from.isoformat(),
                              date_before=date_to and date_to.isoformat())
        yield from self._bank_transactions(within)

    # References ------------------------------------------------------------------------
    def _by_references(self, references: list[str]) -> Iterator[ReadBackPage]:
        missing = []
        for ref in references:
            found = False
            for path, convert in (("/expenses/", self._expense), ("/manual-journals/", self._journal)):
                for page in self._read(path, convert, reference=ref):
                    found = found or bool(page.documents)
                    yield page
                if found:   # a reference lives in one collection: the journals are not asked
                    break
            if not found:
                missing.append(ref)
        if missing:
            yield from self._bank_transactions(lambda row: row.get("reference") in missing)

    # Plumbing ------------------------------------------------------------------------------
    def _read(self, path: str, convert: Callable[[dict], VendorDocument], *, keep=None,
              **filters) -> Iterator[ReadBackPage]:
        for rows, calls in self.client.pages(path, page_size=READ_BACK_PAGE_SIZE, **filters):
            before = self.client.calls    # look-ups while converting (tax rates, the bank) count too
            docs = []
            for row in rows:
                if (keep is None or keep(row)) and row["id"] not in self.seen:
                    self.seen.add(row["id"])
                    docs.append(convert(row))
            yield ReadBackPage(documents=tuple(docs), requests=calls + self.client.calls - before)

    def _bank_transactions(self, keep) -> Iterator[ReadBackPage]:
        if not self.bank_account:
            return
        yield from self._read(f"/bank-accounts/{self.bank_account}/ledger-transactions/", self._bank_transaction,
                              keep=lambda row: row.get("is_manual", True) and keep(row))

    def _expense(self, row: dict) -> VendorDocument:
        if self._tax_rates is None:
            self._tax_rates = {r["id"]: money(r["rate"]) for r in self.client.list_all("/tax-rates/")}
        return expense_document(row, self._tax_rates)

    def _journal(self, row: dict) -> VendorDocument:
        return journal_document(row, self.base_currency)

    def _bank_transaction(self, row: dict) -> VendorDocument:
        if self._bank is None:
            self._bank = self.client.call("GET", f"/bank-accounts/{self.bank_account}/").body
        return ledger_transaction_document(row, self._bank)
