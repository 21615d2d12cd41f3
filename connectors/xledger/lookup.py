"""Finding our vouchers by reference with only what the contract documents (C4, C7).

The filter field for `extIdentifier` is unknown to the contract, so by default the connector
does what it prescribes instead: read the import rows and import errors modified since a moment
(`modifiedAt_gte`) and match the references here. Xledger keeps `modifiedAt` in CET; like the
official sample, the moment is converted to CET and taken 15 minutes early for clock skew. CET is
taken as UTC+1 all year: were Xledger on summer time, the window would start an hour early
(more rows, nothing missed) rather than an hour late.

Where the schema has reference filters (`extIdentifier_in`, `yourReference_in` on
`glImportItems`, `objectValue_in` on `glImportItemErrors`), one filtered query is used instead.
`check()` detects them by introspection (one request, never on the export path); the connection
setting `lookup_by` ("filter" or "window") overrides the detection.

A window is bounded, so it is chosen as narrow as is safe: a push looks back to the first call
made with its idempotency key; `find_by_reference` looks back `lookup_window_days` (default 45).
Both ways answer in the shape `imports.documents` reads: {items, reversals, errors} edges.
"""

from datetime import datetime, timedelta, timezone

from ..errors import Permanent
from . import schema
from .settings import XledgerSettings

CET = timezone(timedelta(hours=1), "CET")
SKEW = timedelta(minutes=15)
WINDOW_DAYS = 45
MAX_PAGES = 100
FILTERS = {"glImportItems": {"extIdentifier_in", "yourReference_in"}, "glImportItemErrors": {"objectValue_in"}}


def mode(settings: XledgerSettings) -> str:
    if settings.lookup_by:
        return settings.lookup_by
    return "filter" if settings.lookup_filters_detected else "window"


def filters_present(data: dict) -> bool:
    """Whether an introspection answer (schema.LOOKUP_FILTERS) shows every reference filter."""
    fields = {f["name"]: f for f in data["__schema"]["queryType"]["fields"]}
    for root, needed in FILTERS.items():
        args = {a["name"]: a["type"] for a in (fields.get(root) or {}).get("args") or []}
        kind = args.get("filter") or {}
        kind = kind if kind.get("inputFields") else kind.get("ofType") or {}
        if not needed <= {i["name"] for i in kind.get("inputFields") or []}:
            return False
    return True


def window_start(settings: XledgerSettings, now: datetime) -> datetime:
    return now - timedelta(days=settings.lookup_window_days or WINDOW_DAYS)


def cet(moment: datetime) -> str:
    return (moment - SKEW).astimezone(CET).strftime("%Y-%m-%dT%H:%M:%S")


def fetch(client, references: list[str], *, how: str, since: datetime) -> dict:
    """One lookup answer for `references`: vouchers, reversing vouchers naming them, import errors."""
    if how == "filter":
        return client.graphql(schema.LOOKUP, {"refs": references})
    return match(window_rows(client, cet(since)), set(references))


def window_rows(client, since: str) -> dict[str, list[dict]]:
    """Every import row and import error modified since `since` (CET), paging each root alone."""
    rows: dict[str, list[dict]] = {"items": [], "errors": []}
    after: dict[str, str | None] = {"items": None, "errors": None}
    for _ in range(MAX_PAGES):
        data = client.graphql(schema.window_lookup(list(after)),
                              {"since": since, **{f"{root}After": cursor for root, cursor in after.items()}})
        more = {}
        for root in after:
            page = data[root]
            rows[root] += [edge["node"] for edge in page["edges"]]
            if page["pageInfo"]["hasNextPage"] and page["edges"]:
                more[root] = page["edges"][-1]["cursor"]
        if not more:
            return rows
        after = more
    raise Permanent(f"Xledger has more than {MAX_PAGES} pages of import rows since {since}", code="too_many_pages")


def match(rows: dict[str, list[dict]], references: set[str]) -> dict:
    def edges(nodes):
        return {"edges": [{"node": node} for node in nodes]}

    return {"items": edges(r for r in rows["items"] if r.get("extIdentifier") in references),
            "reversals": edges(r for r in rows["items"] if r.get("yourReference") in references),
            "errors": edges(e for e in rows["errors"] if e.get("objectValue") in references)}
