"""An Apideck Unify sandbox speaking the Accounting API for `x-apideck-service-id: workday`.

Every request is checked against the shipped `apideck-accounting.yml` (10.34.0) before it is
looked at (operation, required headers, declared query parameters, deepObject filter keys, body
schema with `additionalProperties: false`), and every answer (refusals and fault switches too) is
checked against the response schema of its status before it is sent; a mismatch is a 500 naming
the problem, so a sandbox bug cannot hide. Errors use Apideck's envelope (A11). JSON numbers are
read and written as exact decimals (sandbox_envelope.py).

Workday behaviour (apideck.md A5, A15) and the choices where the contract says [?]:
- ledger-account ids are base64 of {"Account_Id", "Account_Set_Id"}; new accounts go into the
  "Standard" set.
- Journal entries: ≥ 2 lines, balanced (debits positive, credits negative, sum 0), status `draft`
  or `posted` only; a line without a `Cost_Center_Reference_ID` worktag forces `draft`; PATCH only
  on drafts (422 InvalidStateError). DELETE removes a draft and voids a posted entry (it stays
  listed as `voided`). Worktags are `{"id": <Workday worktag type>, "value": <reference id>}`.
- Expenses: create, get and update; the expense list and delete answer 501
  ConnectorOperationUnsupportedError. An expense posts a journal entry in Workday, but whether it
  appears in the journal-entry list is unknown, so here it does not.
- Unknown ids and Workday-side validation come back as 400 ConnectorExecutionError with
  `downstream_errors` (`detail` is the offending field path).
- Tracking categories, tax rates and suppliers are served for the catalogs (not listed for
  Workday on the connector page): worktags as tracking categories, `parent_id` = worktag type.
- No `filter[number]` (added after 10.34.0): it answers 400 UnsupportedFiltersError.
- Closed periods: `POST /__sandbox__/settings {"closed_through": "YYYY-MM-DD"}` (null reopens) closes
  Workday's ledger periods up to that date (a tenant task no API offers). Creating or updating a
  journal entry whose `posted_at` falls there is Workday's closed-period fault passed through: 400
  ConnectorExecutionError, `downstream_errors[0]` = {message: Workday's XSD text, detail:
  "posted_at"}. Voiding (DELETE) a posted entry dated there is the same fault: the spec is silent,
  and Workday reverses a posted journal only in its own period (Unpost-Reverse, as the Workday
  sandbox answers it), so the void is refused and the entry stays posted; a draft, never booked,
  is deleted whatever its date. The reversing entry of such a document is a new journal entry
  dated in the open period (the connector's `reverse`).
- The list's page size is capped at the spec's maximum (200; `max_page_size`, which the testkit
  lowers so paging shows with few rows).
- The shared fault switches answer in Apideck's shape: 429 ConnectorRateLimitError with the
  `x-downstream-ratelimit-*` headers (and Retry-After when the switch sets one), 5xx
  ConnectorExecutionError with `downstream_errors`.
"""

import base64
import json
import secrets
import threading
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

from ...bodies import dumps_exact
from ...periods import closed_through, is_closed
from ...sandboxing.server import Fault, Request, Response, SandboxApp, SandboxServer
from ...workday.sandbox.server import CLOSED_PERIOD
from ..schema import COST_CENTER, decode_account_id, encode_account_id
from . import spec as aspec
from .envelope import ExactResponse, error, fault_response, loads_exact, now_ts, ok
from .reference import ReferenceDataMixin

SEED = Path(__file__).parent / "fixtures" / "seed.json"
API_KEY = "sk_sandbox_apideck_expensico_0001"
APP_ID = "expensico-sandbox-app"
CONSUMER_ID = "expensico-demo-consumer"
CLASS_FOR_TYPE = {"Expense": ("expense", "expense"), "Cash": ("asset", "bank"), "Asset": ("asset", "current_asset"),
                  "Liability": ("liability", "current_liability"), "Equity": ("equity", "equity"),
                  "Revenue": ("revenue", "revenue")}


class ApideckSandbox(ReferenceDataMixin, SandboxApp):
    name = "apideck"
    max_page_size = 200

    def __init__(self, *, seed_path: Path = SEED, snapshot: str | None = None):
        super().__init__()
        self.seed_path, self.snapshot = seed_path, snapshot
        self.lock = threading.RLock()
        self._pending = threading.local()     # a fault switch taken for the request on this thread
        self.reset()
        if snapshot and Path(snapshot).exists():
            self.load(snapshot)

    # State ------------------------------------------------------------------------------
    def reset(self) -> None:
        with self.lock:
            seed = json.loads(self.seed_path.read_text())
            self.seed = seed
            self.api_keys = {API_KEY}
            ts = now_ts()
            self.ledger_accounts = {}
            for acc in seed["ledger_accounts"]:
                self._add_account(acc["id"], acc.get("set", "Standard"), acc["name"], acc["type"], ts)
            self.journal_entries: dict[str, dict] = {}
            self.expenses: dict[str, dict] = {}
            self.closed_through = None

    def _add_account(self, code: str, account_set: str, name: str, wd_type: str, ts: str) -> dict:
        classification, kind = CLASS_FOR_TYPE.get(wd_type, ("other", "other"))
        row = {"id": encode_account_id(code, account_set), "display_id": code, "code": code, "nominal_code": code,
               "name": name, "classification": classification, "type": kind, "status": "active", "active": True,
               "currency": self.seed["company"]["currency"], "created_at": ts, "updated_at": ts, "row_version": "1"}
        self.ledger_accounts[row["id"]] = row
        return row

    def save(self, path: str | None = None) -> None:
        with self.lock:
            Path(path or self.snapshot).write_bytes(dumps_exact({
                "ledger_accounts": self.ledger_accounts, "journal_entries": self.journal_entries,
                "expenses": self.expenses, "api_keys": sorted(self.api_keys),
                "closed_through": self.closed_through.isoformat() if self.closed_through else None}))

    def load(self, path: str) -> None:
        data = loads_exact(Path(path).read_bytes())
        with self.lock:
            self.ledger_accounts, self.journal_entries = data["ledger_accounts"], data["journal_entries"]
            self.expenses, self.api_keys = data["expenses"], set(data["api_keys"])
            self.closed_through = closed_through(data.get("closed_through"))

    def ledger(self) -> dict:
        with self.lock:
            return {"journal_entries": [dict(v) for v in self.journal_entries.values()],
                    "expenses": [dict(v) for v in self.expenses.values()],
                    "ledger_accounts": [dict(v) for v in self.ledger_accounts.values()]}

    def documents(self, collection: str = "journal_entries") -> list[dict]:
        with self.lock:
            return [dict(v) for v in getattr(self, collection).values()]

    def edit_journal_amount(self, entry_id: str, amount) -> None:
        """A posted journal changed in Workday (Apideck edits drafts only): its first debit and
        first credit line become `amount` together."""
        with self.lock:
            row = self.journal_entries[entry_id]
            for side in ("debit", "credit"):
                next(i for i in row["line_items"] if i.get("type") == side)["total_amount"] = amount
            row.update(updated_at=now_ts(), row_version=str(int(row["row_version"]) + 1))

    def revoke_all_credentials(self) -> None:
        with self.lock:
            self.api_keys.clear()

    def banner(self, base_url: str) -> list[str]:
        return [f"Apideck sandbox (service workday): {base_url}", f"  api key (Bearer): {API_KEY}",
                f"  x-apideck-app-id: {APP_ID}", f"  x-apideck-consumer-id: {CONSUMER_ID}",
                f"  company id: {self.seed['company']['id']}", f"  control: {base_url}/__sandbox__/"]

    # Faults in Apideck's shape ----------------------------------------------------------
    # Taken here and answered from handle() rather than through the shared fault hooks, which
    # never see the request: this way the answer is checked against the operation's declared
    # responses like every other.
    def take_fault(self, req: Request):
        fault = super().take_fault(req)
        if fault and fault.kind in ("rate_limit", "server_error"):
            self._pending.fault = fault
            return None
        return fault

    def over_rate_limit(self) -> bool:
        if super().over_rate_limit():
            self._pending.fault = Fault(kind="rate_limit", retry_after=(self.rate_limit or {}).get("retry_after"))
        return False

    def control(self, req: Request) -> Response:
        if req.method == "POST" and req.path.rstrip("/").endswith("/settings") and "closed_through" in (req.json() or {}):
            try:
                through = closed_through(req.json()["closed_through"])
            except ValueError as exc:
                return Response(400, {"detail": str(exc)})
            with self.lock:
                self.closed_through = through
        resp = super().control(req)     # the ledger it shows holds Decimal amounts
        return ExactResponse(resp.status, resp.body, resp.headers)

    # Dispatch ---------------------------------------------------------------------------
    def handle(self, req: Request) -> Response:
        resp = self._answer(req)
        # Every answer is held to the spec before it leaves, refusals and fault switches included:
        # a client is built against those too.
        problems = aspec.check_response(req.method, req.path, resp.status, resp.body)
        if problems:
            return ExactResponse(500, {"status_code": 500, "error": "Internal Server Error", "type_name": "SandboxError",
                                       "message": "the sandbox produced an answer the spec does not allow",
                                       "detail": "; ".join(problems[:5])})
        return resp

    def _answer(self, req: Request) -> Response:
        fault = getattr(self._pending, "fault", None)
        if fault is not None:
            self._pending.fault = None
            return fault_response(fault)
        try:
            body = loads_exact(req.body) if req.body else None
        except ValueError:
            return error(400, "RequestValidationError", "Invalid JSON", "The body is not valid JSON")
        scheme, _, key = req.header("authorization").partition(" ")
        if scheme != "Bearer" or key not in self.api_keys:
            return error(401, "UnauthorizedError", "Unauthorized Request", "Invalid API key")
        if req.header("x-apideck-app-id") and req.header("x-apideck-app-id") != APP_ID:
            return error(401, "UnauthorizedError", "Unauthorized Request", "Unknown application id")
        status, type_name, problems = aspec.check_request(req.method, req.path, req.query, req.headers, body)
        if status:
            return error(status, type_name, "Invalid Params" if status == 400 else "Not Found", "; ".join(problems))
        if req.header("x-apideck-consumer-id") != CONSUMER_ID:
            return error(404, "ConnectionNotFoundError", "Connection not found",
                         "No callable connection for this consumer")
        service = req.header("x-apideck-service-id") or "workday"
        if service != "workday":
            return error(404, "ConnectionNotFoundError", "Connection not found", f"No connection for {service}")
        with self.lock:
            return self._route(req, body)

    def _route(self, req: Request, body) -> Response:
        parts = [p for p in req.path.split("/") if p][1:]      # drop "accounting"
        resource, rest = parts[0], parts[1:]
        handler = getattr(self, f"_{resource.replace('-', '_')}", None)
        if handler is None:
            return error(501, "ConnectorOperationUnsupportedError", "Operation not supported",
                         f"{req.method} {resource} is not supported by the Workday connector")
        return handler(req, body, rest[0] if rest else None)

    @staticmethod
    def _ok(resource: str, operation: str, data, status: int = 200, **extra) -> Response:
        return ok(resource, operation, data, status, **extra)

    def _unsupported(self, what: str) -> Response:
        return error(501, "ConnectorOperationUnsupportedError", "Operation not supported",
                     f"{what} is not supported by the Workday connector")

    def _page(self, req: Request, resource: str, rows: list[dict]) -> Response:
        limit = min(int(req.arg("limit") or 20), self.max_page_size)
        cursor = req.arg("cursor")
        offset = 0
        if cursor:
            try:
                prefix, _, number = base64.b64decode(cursor).decode().rpartition("::")
                assert prefix == f"workday::{resource}::offset"
                offset = int(number)
            except (ValueError, AssertionError, UnicodeDecodeError):
                return error(400, "InvalidCursorError", "Invalid cursor", "The cursor is not one of this connector's")
        chunk = rows[offset: offset + limit]

        def cur(n):
            return base64.b64encode(f"workday::{resource}::offset::{n}".encode()).decode()

        nxt = cur(offset + limit) if offset + limit < len(rows) else None
        prev = cur(max(0, offset - limit)) if offset else None
        base = f"{req.base_url}{req.path}"
        keep = {k: v[0] for k, v in req.query.items() if k != "cursor"}

        def link(c):
            return f"{base}?{urlencode({**keep, 'cursor': c})}" if c else None

        return self._ok(resource, "all", chunk,
                        meta={"items_on_page": len(chunk), "cursors": {"previous": prev, "current": cur(offset),
                                                                       "next": nxt}},
                        links={"previous": link(prev), "current": link(cur(offset)) or base, "next": link(nxt)})

    @staticmethod
    def _filters(req: Request) -> dict[str, str]:
        return {k[len("filter["):-1]: v[0] for k, v in req.query.items() if k.startswith("filter[")}

    # Journal entries --------------------------------------------------------------------
    def _downstream(self, problems: list[tuple[str, str]]) -> Response:
        return error(400, "ConnectorExecutionError", "Workday rejected the request", problems[0][1],
                     [{"message": m, "detail": f, "code": "VALIDATION_ERROR"} for f, m in problems])

    def _check_account(self, account_id: str, where: str) -> list[tuple[str, str]]:
        decoded = decode_account_id(account_id or "")
        if decoded is None or account_id not in self.ledger_accounts:
            value = decoded["Account_Id"] if decoded else account_id
            return [(where, f"Invalid ID value.  '{value}' is not a valid ID value for type = 'Ledger_Account_ID'")]
        if not self.ledger_accounts[account_id]["active"]:
            return [(where, "At least one of the Ledger Accounts entered is retired.")]
        return []

    def _check_worktags(self, tags: list[dict], where: str) -> list[tuple[str, str]]:
        known = {(w["type"], w["id"]) for w in self.seed["worktags"]}
        return [(where, f"Invalid ID value.  '{t.get('value')}' is not a valid ID value for type = '{t.get('id')}'")
                for t in tags if (t.get("id"), t.get("value")) not in known]

    def _journal_problems(self, body: dict) -> tuple[list[tuple[str, str]], Decimal]:
        problems, balance = [], Decimal(0)
        lines = body.get("line_items") or []
        for i, item in enumerate(lines):
            where = f"line_items.{i}"
            amount = item.get("total_amount", item.get("sub_total"))
            if amount is None:
                problems.append((f"{where}.total_amount", "total_amount or sub_total is required"))
                continue
            problems += self._check_account((item.get("ledger_account") or {}).get("id"), f"{where}.ledger_account.id")
            problems += self._check_worktags(item.get("worktags") or [], f"{where}.worktags")
            amount = abs(Decimal(amount))
            balance += amount if item.get("type") == "debit" else -amount
        if len(lines) < 2:
            problems.append(("line_items", "Requires a minimum of 2 line items"))
        elif balance and not problems:
            problems.append(("line_items", "Journal may not be submitted unless it is balanced"))
        if is_closed(body.get("posted_at"), self.closed_through):
            problems.append(("posted_at", CLOSED_PERIOD))
        return problems, balance

    def _journal_entries(self, req, body, item_id):
        if not item_id:
            if req.method == "GET":
                filters = self._filters(req)
                rows = sorted(self.journal_entries.values(), key=lambda r: r["created_at"])
                if "updated_since" in filters:
                    rows = [r for r in rows if r["updated_at"] >= filters["updated_since"]]
                if "status" in filters:
                    rows = [r for r in rows if r["status"] == filters["status"]]
                if set(filters) - {"updated_since", "status"}:
                    return error(400, "UnsupportedFiltersError", "Unsupported filters",
                                 {"supported_filters": ["updated_since", "status"]})
                return self._page(req, "journal-entries", rows)
            return self._journal_create(body)
        row = self.journal_entries.get(item_id)
        if row is None:
            return error(404, "EntityNotFoundError", "Unknown Journal Entry",
                         f"Could not find journal entry with id: '{item_id}'")
        if req.method == "GET":
            return self._ok("journal-entries", "one", row)
        if req.method == "PATCH":
            if row["status"] != "draft":
                return error(422, "InvalidStateError", "Invalid State",
                             f"Only journal entries with draft status can be updated (status is {row['status']})")
            merged = {**row, **body}
            problems, _ = self._journal_problems(merged)
            if problems:
                return self._downstream(problems)
            row.update(self._journal_fields(merged), updated_at=now_ts(), row_version=str(int(row["row_version"]) + 1))
            return self._ok("journal-entries", "update", {"id": item_id})
        # DELETE: a draft disappears; a posted journal is reversed in Workday and shows as voided,
        # in its own period only.
        if row["status"] not in ("draft", "voided") and is_closed(row.get("posted_at"), self.closed_through):
            return self._downstream([("posted_at", CLOSED_PERIOD)])
        if row["status"] == "draft":
            del self.journal_entries[item_id]
        elif row["status"] != "voided":
            row.update(status="voided", updated_at=now_ts(), row_version=str(int(row["row_version"]) + 1))
        return self._ok("journal-entries", "delete", {"id": item_id})

    def _journal_fields(self, body: dict) -> dict:
        status = body.get("status") or "draft"
        lines = []
        for i, item in enumerate(body.get("line_items") or []):
            line = {k: v for k, v in item.items() if k != "id"}
            line["id"] = f"{i + 1}"
            lines.append(line)
        if status == "posted" and any(not any(t.get("id") == COST_CENTER and t.get("value")
                                              for t in line.get("worktags") or []) for line in lines):
            status = "draft"     # the Workday gotcha: a line without a cost centre keeps it a draft
        keep = ("number", "title", "memo", "currency", "currency_rate", "company_id", "posted_at", "source_type",
                "source_id", "tracking_categories", "journal_symbol", "tax_inclusive")
        return {**{k: body[k] for k in keep if k in body}, "line_items": lines, "status": status}

    def _journal_create(self, body: dict) -> Response:
        if (body.get("status") or "draft") not in ("draft", "posted"):
            return error(400, "RequestValidationError", "Invalid Params",
                         "For Workday, status must be draft or posted")
        problems, _ = self._journal_problems(body)
        if problems:
            return self._downstream(problems)
        ts, wid = now_ts(), secrets.token_hex(16)
        row = {"id": wid, "downstream_id": wid, **self._journal_fields(body), "created_at": ts, "updated_at": ts,
               "row_version": "1"}
        self.journal_entries[wid] = row
        return self._ok("journal-entries", "add", {"id": wid}, 201)

    # Expenses ---------------------------------------------------------------------------
    def _expenses(self, req, body, item_id):
        if not item_id and req.method == "GET":
            return self._unsupported("Listing expenses")
        if req.method == "DELETE":
            return self._unsupported("Deleting expenses")
        if not item_id:
            return self._expense_save(body, None)
        row = self.expenses.get(item_id)
        if row is None:
            return error(404, "EntityNotFoundError", "Unknown Expense", f"Could not find expense with id: '{item_id}'")
        if req.method == "GET":
            return self._ok("expenses", "one", row)
        return self._expense_save({**row, **body}, row)

    def _expense_save(self, body: dict, existing: dict | None) -> Response:
        account = (body.get("account") or {}).get("id") or body.get("account_id")
        if not account:
            return error(400, "RequestValidationError", "Invalid Params", {"missing": [{"account": "required"}]})
        problems = self._check_account(account, "account.id")
        total = Decimal(0)
        for i, item in enumerate(body.get("line_items") or []):
            line_account = (item.get("account") or {}).get("id") or item.get("account_id")
            problems += self._check_account(line_account, f"line_items.{i}.account.id")
            tags = [{"id": t.get("parent_id"), "value": t.get("id")} for t in item.get("tracking_categories") or []]
            problems += self._check_worktags(tags, f"line_items.{i}.tracking_categories")
            total += Decimal(item.get("total_amount") or 0)
        if body.get("total_amount") is not None and Decimal(body["total_amount"]) != total and not problems:
            problems.append(("total_amount", f"total_amount {body['total_amount']} is not the sum of the lines {total}"))
        if problems:
            return self._downstream(problems)
        ts = now_ts()
        fields = {k: v for k, v in body.items() if k not in ("id", "created_at", "updated_at", "row_version")}
        fields.update(total_amount=total, status=body.get("status") or "posted")
        if existing:
            existing.update(fields, updated_at=ts, row_version=str(int(existing["row_version"]) + 1))
            return self._ok("expenses", "update", {"id": existing["id"]})
        wid = secrets.token_hex(16)
        self.expenses[wid] = {"id": wid, **fields, "created_at": ts, "updated_at": ts, "row_version": "1"}
        return self._ok("expenses", "add", {"id": wid}, 201)


def make_server(*, host: str = "127.0.0.1", port: int = 0, snapshot: str | None = None,
                verbose: bool = False) -> SandboxServer:
    return SandboxServer(ApideckSandbox(snapshot=snapshot), host=host, port=port, verbose=verbose)
