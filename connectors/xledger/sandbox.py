"""A faithful Xledger sandbox: one `POST /graphql`, a real GraphQL server (graphql-core) over the
hand-written subset schema in fixtures/schema.graphql.

Follows ../shared/vendor-apis/xledger.md (C10 checklist): `Authorization: token <x>` (a `Bearer`
or malformed header gets the GraphQL error "Bad format for API token"), application errors as
HTTP 200 with `errors[]` and a top-level `code` (`BAD_REQUEST.BURST_RATE_LIMIT_REACHED`,
`…CONCURRENCY_LIMIT_REACHED`, `…INSUFFICIENT_CREDITS` with `extensions.resetAt`), Relay paging
(`first/last/after`, `pageInfo`, 10,000 cap), references by `code` or `dbId` with
`showAlternatives: YES` → `extensions.exampleValidInputs`, a burst limit of 20 requests / 5 s
per token, a request counter per month, and the fault switches of `connectors.sandboxing`.

Choices where the contract says "unknown" [INF]:
* `addGLImportItems` is atomic: one invalid reference rejects the whole call (INVALID_VALUE,
  `extensions.field` names the input field). Import processing runs right after the call; an
  unbalanced voucher (rows of one call sharing an `extIdentifier`) produces
  `glImportItemErrors` rows whose `objectValue` is that `extIdentifier`, and no journal entries.
* Filter fields `extIdentifier_in` / `yourReference_in` (glImportItems), `objectValue_in` /
  `createdAt_gte` (glImportItemErrors), following the `modifiedAt_gte` naming convention.
* `entities` (the token's company), `taxTableSetups` (tax rules) and `addAccounts` follow the
  patterns of the documented root fields and `addXxx` mutations; none appears in public clients.
* GL objects: `objectKinds` in dbId order are `glObject1…glObject5`.
* A revoked (well-formed) token answers HTTP 401.
"""

import json
import secrets
import threading
import time
from collections import deque
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from graphql import GraphQLError, build_schema, graphql_sync

from ..sandboxing import Request, Response, SandboxApp, SandboxServer

FIXTURES = Path(__file__).parent / "fixtures"
SDL = (FIXTURES / "schema.graphql").read_text()
SEED = json.loads((FIXTURES / "seed.json").read_text())
API_TOKEN = SEED["api_token"]
MAX_PAGE = 10_000
BURST = (20, 5.0)
REFERENCE_FIELDS = {"account": "accounts", "currency": "currencies", "taxRule": "taxTableSetups",
                    "project": "projects", "subledger": "employees", "glObject1": "objectValues",
                    "glObject2": "objectValues", "glObject3": "objectValues", "glObject4": "objectValues",
                    "glObject5": "objectValues"}


def now_ts() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _app_error(code: str, message: str, **extensions) -> Response:
    return Response(200, {"errors": [{"message": message, "code": code, "extensions": extensions}], "data": None})


def _page(rows: list[dict], first=None, last=None, after=None) -> dict:
    if after:
        rows = [r for r in rows if int(r["dbId"]) > int(after)]
    total = len(rows)
    if first is not None:
        taken = rows[: min(first, MAX_PAGE)]
    elif last is not None:
        taken = rows[-min(last, MAX_PAGE):] if last else []
    else:
        taken = rows[:MAX_PAGE]
    start = rows.index(taken[0]) if taken else 0
    return {"edges": [{"cursor": str(r["dbId"]), "node": r} for r in taken],
            "pageInfo": {"hasNextPage": start + len(taken) < total, "hasPreviousPage": bool(after) or start > 0}}


class XledgerSandbox(SandboxApp):
    name = "xledger"

    def __init__(self, *, snapshot: str | None = None):
        super().__init__()
        self.schema = build_schema(SDL)
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
            self.tokens = {API_TOKEN}
            self.burst_limit: tuple[int, float] | None = BURST
            self.credits: int | None = None          # None: unlimited; 0 → INSUFFICIENT_CREDITS
            self.forced_errors: list[str] = []
            self.failing_imports: list[str] = []     # the import job refuses the next vouchers, with these messages
            self.recent: dict[str, deque] = {}
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

    def control(self, req: Request) -> Response:
        """Adds `POST /__sandbox__/xledger` {"burst_limit": [n, seconds] | null, "credits": n | null,
        "graphql_errors": ["BAD_REQUEST.CONCURRENCY_LIMIT_REACHED", …], "fail_imports": ["Period is
        closed", …]} to the shared switches: `fail_imports` makes the import job refuse the next
        vouchers (one message each) after `addGLImportItems` has accepted them."""
        if req.method == "POST" and req.path.rstrip("/").endswith("/xledger"):
            body = req.json() or {}
            with self.lock:
                if "burst_limit" in body:
                    self.burst_limit = tuple(body["burst_limit"]) if body["burst_limit"] else None
                if "credits" in body:
                    self.credits = body["credits"]
                self.forced_errors += body.get("graphql_errors", [])
                self.failing_imports += body.get("fail_imports", [])
            return Response(200, {"burst_limit": self.burst_limit, "credits": self.credits,
                                  "requests_by_month": self.requests_by_month})
        return super().control(req)

    # HTTP -------------------------------------------------------------------------------
    def handle(self, req: Request) -> Response:
        if req.path.rstrip("/") != "/graphql":
            return Response(404, {"errors": [{"message": "Not found"}]})
        if req.method != "POST":
            return Response(405, {"errors": [{"message": "Only POST is supported"}]})
        scheme, _, token = req.header("authorization").partition(" ")
        if scheme != "token" or not token:
            return _app_error("BAD_REQUEST", "Bad format for API token. Expected 'Authorization: token <token>'.")
        with self.lock:
            month = date.today().strftime("%Y-%m")
            self.requests_by_month[month] = self.requests_by_month.get(month, 0) + 1
            if token not in self.tokens:
                return Response(401, {"errors": [{"message": "The API token is not valid or has been revoked.",
                                                  "code": "UNAUTHORIZED"}], "data": None})
            limited = self._limits(token)
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
            return Response(200, body)

    def _limits(self, token: str) -> Response | None:
        if self.forced_errors:
            code = self.forced_errors.pop(0)
            return _app_error(code, f"{code.split('.')[-1].replace('_', ' ').capitalize()}.",
                              resetAt="2026-12-01T00:00:00Z")
        if self.burst_limit:
            count, seconds = self.burst_limit
            window = self.recent.setdefault(token, deque())
            now = time.monotonic()
            while window and now - window[0] > seconds:
                window.popleft()
            if len(window) >= count:
                return _app_error("BAD_REQUEST.BURST_RATE_LIMIT_REACHED",
                                  f"Burst limit reached: at most {count} requests per {seconds:g} seconds.")
            window.append(now)
        if self.credits is not None:
            if self.credits <= 0:
                first = date.today().replace(day=1)
                reset = date(first.year + first.month // 12, first.month % 12 + 1, 1)
                return _app_error("BAD_REQUEST.INSUFFICIENT_CREDITS", "Insufficient credits for this request.",
                                  resetAt=f"{reset.isoformat()}T00:00:00Z")
            self.credits -= 1
        return None

    # Query resolvers (graphql-core calls root attributes with (info, **args)) -------------
    def _list(self, table, first=None, last=None, after=None, rows=None):
        return _page(self.tables[table] if rows is None else rows, first, last, after)

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
        if "modifiedAt_gte" in filter:
            rows = [r for r in rows if r["modifiedAt"] >= filter["modifiedAt_gte"]]
        return self._list("glImportItems", rows=rows, **kw)

    def glImportItemErrors(self, info, filter=None, **kw):  # noqa: N802
        rows = self.tables["glImportItemErrors"]
        filter = {k: v for k, v in (filter or {}).items() if v is not None}
        if "objectValue_in" in filter:
            rows = [r for r in rows if r["objectValue"] in filter["objectValue_in"]]
        if "createdAt_gte" in filter:
            rows = [r for r in rows if r["createdAt"] >= filter["createdAt_gte"]]
        return self._list("glImportItemErrors", rows=rows, **kw)

    def journalEntries(self, info, filter=None, **kw):  # noqa: N802
        rows = self.tables["journalEntries"]
        if filter and "extIdentifier_in" in filter:
            rows = [r for r in rows if r["extIdentifier"] in filter["extIdentifier_in"]]
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
                                           extensions={"code": "INVALID_VALUE", "field": money}) from None
            if not node.get("account"):
                raise GraphQLError("Invalid value for account: an import row needs an account.",
                                   extensions={"code": "INVALID_VALUE", "field": "account"})
            rows.append((item.get("clientId"), node))
        edges = []
        for client_id, node in rows:
            row = self._add("glImportItems", {"extIdentifier": None, "yourReference": None, "text": None,
                                              "invoiceNumber": None, **node, "_call": self.call_number})
            edges.append({"clientId": client_id, "node": {"dbId": row["dbId"]}})
        self._process([r for r in self.tables["glImportItems"] if r["_call"] == self.call_number])
        return {"edges": edges}

    def fail_next_imports(self, *messages: str) -> None:
        with self.lock:
            self.failing_imports += list(messages)

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
                                             "postedDate": line.get("postedDate"), "transactionDbId": header})

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
