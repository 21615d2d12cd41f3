"""Xledger's own copy of a connection's vouchers (the `read_back` capability), frugally: every
request beyond the monthly allowance is billed (contract C8), so one GraphQL request asks for
both the GL import rows and the import errors, each at the contract's largest page (10,000
records, C4). Reading 500 two-line vouchers costs one request.

Only `modifiedAt_gte` is a documented filter (C4, C7), so a date range reads the rows modified
since `date_from` less `read_back_lookback_days` (default 31: a voucher is rarely written more
than a month before the date it carries) and keeps those whose `postedDate` falls in the range;
references are read over the look-up window of lookup.py. A voucher is the run of rows carrying
one `extIdentifier` (none: booked by hand) that nets to zero, in `dbId` order; its id is
`GLI:<first dbId>` as `push` returns it. A voucher the import job refused (an error row for its
reference at or after its rows) booked nothing: it reads as cancelled.
"""

from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.utils import timezone

from ..base import ReadBackPage, VendorDocument, VendorLine
from ..errors import Permanent
from . import lookup, schema
from .imports import moment
from .settings import XledgerSettings

LOOKBACK_DAYS = 31
MAX_PAGES = 100
ROW_FIELDS = ("dbId postedDate amount invoiceAmount currency { code } account { dbId code } taxRule { code } "
              "taxAmount text extIdentifier yourReference createdAt "
              + " ".join(f"glObject{n} {{ dbId }}" for n in range(1, schema.GL_OBJECT_SLOTS + 1)) + " project { dbId }")
READ_BACK = f"""query ReadBack($since: DateTime, $itemsAfter: String, $errorsAfter: String) {{
  items: glImportItems(first: {schema.PAGE}, after: $itemsAfter, filter: {{modifiedAt_gte: $since}}) {{
    edges {{ cursor node {{ {ROW_FIELDS} }} }} pageInfo {{ hasNextPage }} }}
  errors: glImportItemErrors(first: {schema.PAGE}, after: $errorsAfter, filter: {{modifiedAt_gte: $since}}) {{
    edges {{ cursor node {{ dbId message objectValue createdAt }} }} pageInfo {{ hasNextPage }} }}
}}"""


def money(value) -> Decimal:
    return Decimal(str(value or 0))


def _line(row: dict) -> VendorLine:
    amount = money(row["invoiceAmount"] if row.get("invoiceAmount") is not None else row["amount"])
    dims = [(f"gl_object:{n}", row[f"glObject{n}"]["dbId"]) for n in range(1, schema.GL_OBJECT_SLOTS + 1)
            if row.get(f"glObject{n}")]
    dims += [("project", row["project"]["dbId"])] if row.get("project") else []
    zero = Decimal(0)
    return VendorLine(account=row["account"]["dbId"], debit=max(amount, zero), credit=max(-amount, zero),
                      tax_amount=abs(money(row.get("taxAmount"))), tax_rate=(row.get("taxRule") or {}).get("code"),
                      description=row.get("text") or "", dimensions=tuple(dims))


def vouchers(rows: list[dict]) -> list[list[dict]]:
    open_runs: dict[str, list[dict]] = {}
    out = []
    for row in sorted(rows, key=lambda r: int(r["dbId"])):
        run = open_runs.setdefault(row.get("extIdentifier") or "", [])
        run.append(row)
        if sum((money(r["amount"]) for r in run), Decimal(0)) == 0:
            out.append(open_runs.pop(row.get("extIdentifier") or ""))
    return out + [run for run in open_runs.values() if run]


def _failed(voucher: list[dict], later: list[dict], errors: list[dict]) -> str:
    """The import error for this voucher: one at or after its rows, before the next voucher's."""
    start = max(moment(r.get("createdAt")) for r in voucher)
    end = min((moment(r.get("createdAt")) for r in later), default=None)
    for error in errors:
        at = moment(error.get("createdAt"))
        if at >= start and (end is None or at < end):
            return error.get("message") or "import failed"
    return ""


def documents(rows: list[dict], errors: list[dict], currency: str) -> list[VendorDocument]:
    by_ref = defaultdict(list)
    for voucher in vouchers(rows):
        by_ref[voucher[0].get("extIdentifier") or ""].append(voucher)
    errors_by_ref = defaultdict(list)
    for error in errors:
        errors_by_ref[error.get("objectValue") or ""].append(error)
    out = []
    for ref, group in by_ref.items():
        for i, voucher in enumerate(group):
            failed = _failed(voucher, [r for v in group[i + 1:] for r in v], errors_by_ref[ref]) if ref else ""
            lines = tuple(_line(r) for r in voucher)
            first = voucher[0]
            out.append(VendorDocument(
                reference=ref, external_id=f"GLI:{min(int(r['dbId']) for r in voucher)}",
                date=date.fromisoformat(first["postedDate"]), currency=(first.get("currency") or {}).get("code") or currency,
                amount=sum((ln.debit for ln in lines), Decimal(0)), status="cancelled" if failed else "posted",
                lines=lines, memo=failed or first.get("text") or "", raw={"glImportItems": voucher}))
    return out


class XledgerReadBack:
    def __init__(self, connector):
        self.client = connector.client
        self.settings = XledgerSettings.of(connector.connection)
        self.currency = self.settings.base_currency or connector.connection.organization.base_currency

    def pages(self, *, date_from, date_to, references: Sequence[str] | set[str]) -> Iterator[ReadBackPage]:
        references = set(references)
        if date_from:
            days = self.settings.read_back_lookback_days or LOOKBACK_DAYS
            since = timezone.make_aware(datetime.combine(date_from - timedelta(days=days), time.min))
        else:
            since = lookup.window_start(self.settings, timezone.now())
        before = self.client.calls
        items, errors = self._rows(lookup.cet(since))
        docs = [doc for doc in documents(items, errors, self.currency)
                if doc.reference in references or self._within(doc.date, date_from, date_to, references)]
        yield ReadBackPage(tuple(docs), self.client.calls - before)

    @staticmethod
    def _within(day: date, date_from, date_to, references) -> bool:
        if references and not (date_from or date_to):
            return False
        return (not date_from or day >= date_from) and (not date_to or day <= date_to)

    def _rows(self, since: str) -> tuple[list[dict], list[dict]]:
        """Both roots page by page in the same requests; a finished root asks past its last row."""
        rows: dict[str, list[dict]] = {"items": [], "errors": []}
        after: dict[str, str | None] = {"items": None, "errors": None}
        for _ in range(MAX_PAGES):
            data = self.client.graphql(READ_BACK, {"since": since, "itemsAfter": after["items"],
                                                   "errorsAfter": after["errors"]})
            more = False
            for root in rows:
                page = data[root]
                rows[root] += [edge["node"] for edge in page["edges"]]
                if page["edges"]:
                    after[root] = page["edges"][-1]["cursor"]
                    more = more or page["pageInfo"]["hasNextPage"]
            if not more:
                return rows["items"], rows["errors"]
        raise Permanent(f"Xledger has more than {MAX_PAGES} pages of import rows since {since}", code="too_many_pages")
