"""A faithful Xledger sandbox: one `POST /graphql`, a real GraphQL server (graphql-core) over the
hand-written subset schema in fixtures/schema.graphql.

Follows ../shared/vendor-apis/xledger.md (C10 checklist): `Authorization: token <x>` (a `Bearer`
or malformed header gets the GraphQL error "Bad format for API token"), application errors as
HTTP 200 with `errors[]` and a top-level `code` (`BAD_REQUEST.BURST_RATE_LIMIT_REACHED`,
`…CONCURRENCY_LIMIT_REACHED`, `…INSUFFICIENT_CREDITS` with `extensions.resetAt`), Relay paging
(`first/last/after`, `pageInfo`, 10,000 cap), references by `code` or `dbId` with
`showAlternatives: YES` → `extensions.exampleValidInputs`, a burst limit of 20 requests / 5 s
per token, a request counter per month, and the fault switches of `connectors.sandboxing`
answered in Xledger's shapes (sandbox_faults.py).

Timestamps (`createdAt`, `modifiedAt`) are kept in CET (UTC+1, no offset written), as the contract
says of `modifiedAt`; a `modifiedAt_gte` filter value without an offset is read as CET.

Choices where the contract says "unknown" [INF]:
* `addGLImportItems` is atomic: one invalid reference rejects the whole call (INVALID_VALUE,
  `extensions.field` names the input field). Import processing runs right after the call; an
  unbalanced voucher (rows of one call sharing an `extIdentifier`) produces
  `glImportItemErrors` rows whose `objectValue` is that `extIdentifier`, and no journal entries.
* Filters: the schema has only the documented `modifiedAt_gte` (plus `code`, `objectKindDbId`)
  the contract names; the filter field for `extIdentifier` is unknown. `lookup_filters` (a
  switch, off by default) extends it with `extIdentifier_in` / `yourReference_in`
  (glImportItems) and `objectValue_in` (glImportItemErrors) from fixtures/lookup_filters.graphql:
  a tenant whose schema explorer shows such filters, for the connector's detection.
* `entities` (the token's company), `taxTableSetups` (tax rules) and `addAccounts` follow the
  patterns of the documented root fields and `addXxx` mutations; none appears in public clients.
* GL objects: `objectKinds` in dbId order are `glObject1…glObject5`.
* A revoked (well-formed) token answers HTTP 401.
* Import rows read back with what was written (`taxRule`, `taxAmount`, GL objects, `project`).
* Closed periods and the accountant's own edits: sandbox_ledger.py.
"""

import json
import secrets
import threading
import time
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path

from graphql import GraphQLError, build_schema, extend_schema, graphql_sync, parse

from ...sandboxing.server import Request, Response, SandboxApp, SandboxServer
from .faults import XledgerFaults, app_error
from .ledger import LedgerDesk

FIXTURES = Path(__file__).parent / "fixtures"
SDL = (FIXTURES / "schema.graphql").read_text()
LOOKUP_FILTERS_SDL = (FIXTURES / "lookup_filters.graphql").read_text()
CET = timezone(timedelta(hours=1), "CET")
SEED = json.loads((FIXTURES / "seed.json").read_text())
API_TOKEN = SEED["api_token"]
# A second token of the same entity, the accountant's own (burst limits are per token): what the
# tampering hooks of the testkit use, so they do not spend the connection's burst.
ACCOUNTANT_TOKEN = "xl-accountant-" + API_TOKEN[-12:]
MAX_PAGE = 10_000
BURST = (20, 5.0)
REFERENCE_FIELDS = {"account": "accounts", "currency": "currencies", "taxRule": "taxTableSetups",
                    "project": "projects", "subledger": "employees", "glObject1": "objectValues",
                    "glObject2": "objectValues", "glObject3": "objectValues", "glObject4": "objectValues",
                    "glObject5": "objectValues"}


def now_ts() -> str:
    return datetime.now(CET).strftime("%Y-%m-%dT%H:%M:%S.%f")


def cet_moment(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=CET)


def modified_since(rows: list[dict], since: str | None) -> list[dict]:
    if not since:
        return rows
    start = cet_moment(since)
    return [r for r in rows if cet_moment(r["modifiedAt"]) >= start]


def _page(rows: list[dict], first=None, last=None, after=None, cap: int = MAX_PAGE) -> dict:
    if after:
        rows = [r for r in rows if int(r["dbId"]) > int(after)]
    total = len(rows)
    if first is not None:
        taken = rows[: min(first, cap)]
    elif last is not None:
        taken = rows[-min(last, cap):] if last else []
    else:
        taken = rows[:cap]
    start = rows.index(taken[0]) if taken else 0
    return {"edges": [{"cursor": str(r["dbId"]), "node": r} for r in taken],
            "pageInfo": {"hasNextPage": start + len(taken) < total, "hasPreviousPage": bool(after) or start > 0}}


class XledgerSandbox(LedgerDesk, XledgerFaults, SandboxApp):
    name = "xledger"

    def __init__(self, *, snapshot: str | None = None):
        super().__init__()
        self.base_schema = build_schema(SDL)
        self.max_page = MAX_PAGE      # the contract's cap (C4); tests lower it to show paging
        self.snapshot = snapshot
        self.lock = threading.RLock()
        self.reset()
        if snapshot and Path(snapshot).exists():
            self.load(snapshot)

    # State ------------------------------------------------------------------------------
    def reset(self) -> None:
        with self.lock:
            self.next_id = 1000
            self.tables: dict[str, list[dict]] = {name: [] for name in (
                "entities", "accounts", "bankAccounts", "employees", "suppliers", "projects", "objectKinds",
                "objectValues", "currencies", "taxTableSetups", "glImportItems", "glImportItemErrors",
                "journalEntries")}
            self.tokens = {API_TOKEN, ACCOUNTANT_TOKEN}
            self.closed_through = None
            self.burst_limit: tuple[int, float] | None = BURST
            self.credits: int | None = None          # None: unlimited; 0 → INSUFFICIENT_CREDITS
            self.faults_reset()
            self.use_lookup_filters(False)
            self.recent: dict = {}
            self.requests_by_month: dict[str, int] = {}
            entity = SEED["entity"]
            self._add("entities", {"code": entity["code"], "description": entity["description"],
                                   "currency": {"code": entity["currency"]}})
            for code, text, ledger in SEED["accounts"]:
                self._add("accounts", {"code": code, "description": text, "posting": True,
                                       "cost": ledger == "EXPENSE", "vat": code.startswith("27"), "ledgerType": ledger})
            for code, text, account in SEED["bank_accounts"]:
                acc = self._find("accounts", "code", account)
                self._add("bankAccounts", {"code": code, "description": text, "currency": {"code": entity["currency"]},
                                           "account": {"dbId": acc["dbId"], "code": acc["code"]}})
            for code, text, email in SEED["employees"]:
                self._add("employees", {"code": code, "description": text, "email": email,
                                        "subledger": {"code": code}})
            for code, text, email in SEED["suppliers"]:
                self._add("suppliers", {"code": code, "description": text, "email": email})
            for code, text in SEED["projects"]:
                self._add("projects", {"code": code, "description": text, "allowPosting": True, "extIdentifier": None})
            for kind in SEED["object_kinds"]:
                row = self._add("objectKinds", {"name": kind["name"]})
                for code, text in kind["values"]:
                    self._add("objectValues", {"code": code, "description": text, "objectKindDbId": row["dbId"],
                                               "posting": True})
            for code, text in SEED["currencies"]:
                self._add("currencies", {"code": code, "description": text})
            for code, text in SEED["tax_rules"]:
                self._add("taxTableSetups", {"code": code, "text": text, "ownerDbId": "1"})

    def _add(self, table: str, row: dict) -> dict:
        self.next_id += 1
        row = {"dbId": str(self.next_id), **row, "createdAt": now_ts(), "modifiedAt": now_ts()}
        self.tables[table].append(row)
        return row

    def _find(self, table: str, key: str, value) -> dict | None:
        return next((r for r in self.tables[table] if str(r.get(key)) == str(value)), None)

    def save(self, path: str | None = None) -> None:
        with self.lock:
            Path(path or self.snapshot).write_text(json.dumps({"tables": self.tables, "next_id": self.next_id,
                                                               "requests_by_month": self.requests_by_month}))

    def load(self, path: str) -> None:
        data = json.loads(Path(path).read_text())
        with self.lock:
            self.tables, self.next_id = data["tables"], data["next_id"]
            self.requests_by_month = data.get("requests_by_month", {})

    def ledger(self) -> dict:
        with self.lock:
            return {name: [dict(r) for r in self.tables[name]]
                    for name in ("glImportItems", "glImportItemErrors", "journalEntries", "accounts", "bankAccounts")}

    def documents(self, reference: str) -> list[dict]:
        """Vouchers held for a reference: import rows grouped by the call that sent them."""
        with self.lock:
            vouchers: dict[int, list[dict]] = {}
            for row in self.tables["glImportItems"]:
                if row["extIdentifier"] == reference:
                    vouchers.setdefault(row["_call"], []).append(row)
            return [{"extIdentifier": reference, "rows": rows} for rows in vouchers.values()]

    def booked(self, reference: str) -> list[dict]:
        """Journal transactions posted for a reference: what the import job actually booked."""
        with self.lock:
            headers: dict[str, list[dict]] = {}
            for row in self.tables["journalEntries"]:
                if row["extIdentifier"] == reference:
                    headers.setdefault(row["transactionDbId"], []).append(row)
            return [{"transactionDbId": tid, "lines": lines} for tid, lines in headers.items()]

    def revoke_all_credentials(self) -> None:
        with self.lock:
            self.tokens.clear()

    def banner(self, base_url: str) -> list[str]:
        return [f"Xledger sandbox: {base_url}/graphql", f"  api token: {API_TOKEN}",
                "  header: Authorization: token <api token>", f"  control: {base_url}/__sandbox__/"]

    # HTTP -------------------------------------------------------------------------------
    def handle(self, req: Request) -> Response:
        if req.path.rstrip("/") != "/graphql":
            return Response(404, {"errors": [{"message": "Not found"}]})
        if req.method != "POST":
            return Response(405, {"errors": [{"message": "Only POST is supported"}]})
        scheme, _, token = req.header("authorization").partition(" ")
        if scheme != "token" or not token:
            return app_error("BAD_REQUEST", "Bad format for API token. Expected 'Authorization: token <token>'.")
        with self.lock:
            month = date.today().strftime("%Y-%m")
            self.requests_by_month[month] = self.requests_by_month.get(month, 0) + 1
            if token not in self.tokens:
                return Response(401, {"errors": [{"message": "The API token is not valid or has been revoked.",
                                                  "code": "UNAUTHORIZED"}], "data": None})
            limited = self.limits_check(token, time.monotonic())
            if limited:
                return limited
            try:
                payload = req.json() or {}
            except ValueError:
                return Response(400, {"errors": [{"message": "Body is not valid JSON"}]})
            self.call_number = getattr(self, "call_number", 0) + 1
            result = graphql_sync(self.schema, payload.get("query", ""), root_value=self,
                                  variable_values=payload.get("variables"),
                                  operation_name=payload.get("operationName"))
            body = {"data": result.data}
            if result.errors:
                body["errors"] = []
                for err in result.errors:
                    formatted = err.formatted
                    if err.extensions and "code" in err.extensions:
                        formatted["code"] = err.extensions["code"]
                    body["errors"].append(formatted)
            mutation = payload.get("query", "").lstrip().startswith("mutation")
            return self.after_commit(body, mutation) or Response(200, body)

    def use_lookup_filters(self, on: bool) -> None:
        self.lookup_filters = on
        self.schema = extend_schema(self.base_schema, parse(LOOKUP_FILTERS_SDL)) if on else self.base_schema

    # Query resolvers (graphql-core calls root attributes with (info, **args)) -------------
    def _list(self, table, first=None, last=None, after=None, rows=None):
        return _page(self.tables[table] if rows is None else rows, first, last, after, self.max_page)

    def entities(self, info, **kw):
        return self._list("entities", **kw)

    def accounts(self, info, filter=None, **kw):
        rows = [r for r in self.tables["accounts"]
                if all(str(r.get(k)) == str(v) for k, v in (filter or {}).items() if not k.endswith("_gte"))]
        return self._list("accounts", rows=rows, **kw)

    def bankAccounts(self, info, **kw):  # noqa: N802 (GraphQL names)
        return self._list("bankAccounts", **kw)

    def employees(self, info, **kw):
        return self._list("employees", **kw)

    def suppliers(self, info, **kw):
        return self._list("suppliers", **kw)

    def projects(self, info, **kw):
        return self._list("projects", **kw)

    def objectKinds(self, info, **kw):  # noqa: N802
        return self._list("objectKinds", **kw)

    def objectValues(self, info, filter=None, **kw):  # noqa: N802
        rows = [r for r in self.tables["objectValues"]
                if all(str(r.get(k)) == str(v) for k, v in (filter or {}).items())]
        return self._list("objectValues", rows=rows, **kw)

    def currencies(self, info, **kw):
        return self._list("currencies", **kw)

    def taxTableSetups(self, info, **kw):  # noqa: N802
        return self._list("taxTableSetups", **kw)

    def glImportItems(self, info, filter=None, **kw):  # noqa: N802
        rows = self.tables["glImportItems"]
        filter = {k: v for k, v in (filter or {}).items() if v is not None}
        if "extIdentifier_in" in filter:
            rows = [r for r in rows if r["extIdentifier"] in filter["extIdentifier_in"]]
        if "yourReference_in" in filter:
            rows = [r for r in rows if r.get("yourReference") in filter["yourReference_in"]]
        rows = modified_since(rows, filter.get("modifiedAt_gte"))
        return self._list("glImportItems", rows=rows, **kw)

    def glImportItemErrors(self, info, filter=None, **kw):  # noqa: N802
        rows = self.tables["glImportItemErrors"]
        filter = {k: v for k, v in (filter or {}).items() if v is not None}
        if "objectValue_in" in filter:
            rows = [r for r in rows if r["objectValue"] in filter["objectValue_in"]]
        rows = modified_since(rows, filter.get("modifiedAt_gte"))
        return self._list("glImportItemErrors", rows=rows, **kw)

    def journalEntries(self, info, filter=None, **kw):  # noqa: N802
        rows = modified_since(self.tables["journalEntries"], (filter or {}).get("modifiedAt_gte"))
        return self._list("journalEntries", rows=rows, **kw)

    # Mutations ------------------------------------------------------------------------------
    def _resolve(self, ref: dict | None, field: str, index: int) -> dict | None:
        if not ref:
            return None
        table = REFERENCE_FIELDS[field]
        key = "dbId" if ref.get("dbId") else "code"
        row = self._find(table, key, ref.get(key))
        if field.startswith("glObject") and row is not None:
            kinds = [k["dbId"] for k in self.tables["objectKinds"]]
            slot = int(field[-1])
            if len(kinds) < slot or row["objectKindDbId"] != kinds[slot - 1]:
                row = None
        if row is None:
            extensions = {"code": "INVALID_VALUE", "field": field,
                          "argumentPath": ["inputs", index, "node", field]}
            if ref.get("showAlternatives") == "YES":
                extensions["exampleValidInputs"] = [{"code": r.get("code")} for r in self.tables[table][:10]]
            raise GraphQLError(f"Invalid value for {field}: no match for {key} '{ref.get(key)}'.",
                               extensions=extensions)
        return {"dbId": row["dbId"], "code": row.get("code")}

    def addGLImportItems(self, info, inputs):  # noqa: N802
        rows = []
        for i, item in enumerate(inputs):
            node = dict(item["node"])
            for field in REFERENCE_FIELDS:
                node[field] = self._resolve(node.get(field), field, i)
            for money in ("amount", "invoiceAmount", "taxAmount", "exchangeRate"):
                if node.get(money) is not None:
                    try:
                        Decimal(str(node[money]))
                    except InvalidOperation:
                        raise GraphQLError(f"Invalid value for {money}: '{node[money]}' is not a decimal.",
                                           extensions={"code": "INVALID_VALUE", "field": money,
                                                       "argumentPath": ["inputs", i, "node", money]}) from None
            if not node.get("account"):
                raise GraphQLError("Invalid value for account: an import row needs an account.",
                                   extensions={"code": "INVALID_VALUE", "field": "account",
                                               "argumentPath": ["inputs", i, "node", "account"]})
            self.check_open(i, node)
            rows.append((item.get("clientId"), node))
        if len(rows) > 1 and self.partial_take():
            # Applied but for the last input: the answer carries both `data` and `errors`.
            self.extra_errors.append({"message": "Could not add the item: the server stopped processing the batch.",
                                      "code": "INTERNAL_SERVER_ERROR", "path": ["addGLImportItems"],
                                      "extensions": {"clientId": rows[-1][0]}})
            rows = rows[:-1]
        edges = []
        for client_id, node in rows:
            row = self._add("glImportItems", {"extIdentifier": None, "yourReference": None, "text": None,
                                              "invoiceNumber": None, **node, "_call": self.call_number})
            edges.append({"clientId": client_id, "node": {"dbId": row["dbId"]}})
        self._process([r for r in self.tables["glImportItems"] if r["_call"] == self.call_number])
        return {"edges": edges}

    def _process(self, rows: list[dict]) -> None:
        """Xledger's import job: balanced vouchers become journal entries, others error rows (the
        rows stay in glImportItems; the mutation has already answered with their dbIds)."""
        vouchers: dict[str, list[dict]] = {}
        for row in rows:
            vouchers.setdefault(row.get("extIdentifier") or row["dbId"], []).append(row)
        for ext, lines in vouchers.items():
            total = sum((Decimal(str(r.get("amount") or 0)) for r in lines), Decimal(0))
            refused = f"Voucher does not balance (difference {total})." if total != 0 else (
                self.failing_imports.pop(0) if self.failing_imports else "")
            if refused:
                self._add("glImportItemErrors", {"message": refused,
                                                 "errorLevel": {"code": "ERROR", "name": "Error"},
                                                 "transactionDbId": None, "objectValue": ext})
                continue
            header = str(self.next_id + 1)
            for line in lines:
                self._add("journalEntries", {"account": line["account"], "amount": line.get("amount"),
                                             "text": line.get("text"), "extIdentifier": line.get("extIdentifier"),
                                             "postedDate": line.get("postedDate"), "transactionDbId": header,
                                             "_call": line["_call"]})

    def addAccounts(self, info, inputs):  # noqa: N802
        edges = []
        for i, item in enumerate(inputs):
            if self._find("accounts", "code", item["node"]["code"]):
                raise GraphQLError(f"Account code {item['node']['code']} already exists.",
                                   extensions={"code": "INVALID_VALUE", "field": "code",
                                               "argumentPath": ["inputs", i, "node", "code"]})
        for item in inputs:
            row = self._add("accounts", {"posting": True, "cost": False, "vat": False, "ledgerType": None,
                                         **item["node"]})
            edges.append({"clientId": item.get("clientId"), "node": {"dbId": row["dbId"]}})
        return {"edges": edges}

    def addBankAccounts(self, info, inputs):  # noqa: N802
        edges = []
        for i, item in enumerate(inputs):
            node = dict(item["node"])
            node["account"] = self._resolve(node.get("account"), "account", i)
            node["currency"] = self._resolve(node.get("currency"), "currency", i) or {"code": SEED["entity"]["currency"]}
            row = self._add("bankAccounts", node)
            edges.append({"clientId": item.get("clientId"), "node": {"dbId": row["dbId"]}})
        return {"edges": edges}


def make_server(*, host: str = "127.0.0.1", port: int = 0, snapshot: str | None = None,
                verbose: bool = False) -> SandboxServer:
    return SandboxServer(XledgerSandbox(snapshot=snapshot), host=host, port=port, verbose=verbose)


def new_token() -> str:
    return "xl-" + secrets.token_urlsafe(24)
