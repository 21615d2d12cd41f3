"""A faithful Moon ERP sandbox: the Expenses API of ../shared/vendor-apis/moon-erp.md over real HTTP.

Documented behaviour: Bearer tokens scoped to one company; `{"data": …}` envelopes with embedded
`expense_category`, `tax_rate`, `paying_account`, `partner`, `status_label`, `payment_method_label`;
amounts as 3-decimal strings; lists paginated 25 per page with Laravel's `links`/`meta` and the
filters `status`, `expense_category_id`, `partner_id`, `branch_id`, `date_from`, `date_to`
(inclusive), `page`; create (201, draft), show, update (drafts only), soft delete (drafts only),
approve (posts the journal entry), cancel (posts its mirror). Business rules live in
sandbox_store.py. The approve/cancel answers carry the short shape of the document's example.

*Inferred* (the document is silent; each is the usual Laravel shape):
- 401 `{"message": "Unauthenticated."}`, 403 `{"message": "This action is unauthorized."}` for a
  token lacking the permission, 404 `{"message": "Not found."}`, 422 `{"message", "errors": {field:
  [...]}}` for validation and state violations (`errors.status`), DELETE answers 200 with a message.
- Throttle: 60 requests/minute per token, 429 `{"message": "Too Many Attempts."}` with `Retry-After`
  and `X-RateLimit-*` (`throttle_per_minute`, None disables; the contract tests use the shared
  fault switches instead, which answer the same way here).
- 5xx: `{"message": "Server Error"}` (503: `"Service Unavailable"`), Laravel's production answers,
  for the fault switches too.
- The setup endpoints the connector needs besides expenses: `GET /api/user` (the token's user,
  company and permissions), `GET|POST /api/accounting/accounts` (chart; `type`, `search` filters),
  `GET /api/accounting/transaction-categories` (`type` filter), `tax-rates`, `cost-centers`,
  `branches`, `business-partners`, `GET|POST bank-accounts`, `GET journal-entries[/{id}]`; all
  paginated like expenses. `Accept-Language: ar` returns embedded names in Arabic (the document's
  list example does).
- List items are the full expense resource (the document's list example is abridged; `notes` is
  what duplicate detection matches).
- `GET journal-entries` takes `date_from`/`date_to` (inclusive) like the expense list, and
  `source_type` (`expense` or `manual`), and `reversals=1` (only entries reversing another: the
  cancellations' mirror entries, which may be dated after their expense, see sandbox_store.py).
- Closed periods: `POST /__sandbox__/settings {"closed_through": "YYYY-MM-DD"}` (null reopens) locks
  every date up to it; Moon answers a posting there with a 422 naming `date` (sandbox_store.py).
"""

import json
import math
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

from ...periods import closed_through
from ...sandboxing.server import Request, Response, SandboxApp, SandboxServer
from .store import PAYMENT_METHODS, STATUS_LABELS, Invalid, MoonStore

PER_PAGE = 25
FULL_TOKEN = "moon-sbx-1|F7kq2Lr9TzX4bN8wVd3sYh6Jm0Pc5Ga1"
CLERK_TOKEN = "moon-sbx-2|Q1wE2rT3yU4iO5pA6sD7fG8hJ9kL0zXc"
OTHER_COMPANY_TOKEN = "moon-sbx-3|Zx9Cv8Bn7Mm6Ll5Kk4Jj3Hh2Gg1Ff0Dd"
PREFIX = "/api/accounting/"
CATALOGS = {"accounts": "accounts", "transaction-categories": "transaction_categories", "tax-rates": "tax_rates",
            "cost-centers": "cost_centers", "branches": "branches", "business-partners": "business_partners",
            "bank-accounts": "bank_accounts", "journal-entries": "journal_entries"}
EXPENSE_FILTERS = ("status", "expense_category_id", "partner_id", "branch_id")
ACTION_PERMISSION = {"approve": "accounting.expenses.approve", "cancel": "accounting.expenses.cancel"}


def message(status: int, text: str, headers: dict | None = None) -> Response:
    return Response(status, {"message": text}, headers or {})


def unprocessable(errors: dict[str, list[str]]) -> Response:
    first = next(iter(errors.values()))[0]
    more = sum(len(v) for v in errors.values()) - 1
    text = first + (f" (and {more} more error{'s' if more > 1 else ''})" if more else "")
    return Response(422, {"message": text, "errors": errors})


class MoonSandbox(SandboxApp):
    name = "moon_erp"

    def __init__(self, *, snapshot: str | None = None, throttle_per_minute: int | None = 60):
        super().__init__()
        self.lock = threading.RLock()
        self.snapshot = snapshot
        self.throttle_per_minute = throttle_per_minute
        self.per_page = PER_PAGE        # Moon's; the testkit lowers it so paging shows with few rows
        self.store = MoonStore()
        self._throttle: dict[str, tuple[int, int]] = {}
        if snapshot and Path(snapshot).exists():
            self.load(snapshot)

    # State --------------------------------------------------------------------------------
    def reset(self) -> None:
        with self.lock:
            self.store.reset()
            self._throttle.clear()

    def save(self, path: str | None = None) -> None:
        with self.lock:
            Path(path or self.snapshot).write_text(json.dumps(self.store.dump()))

    def load(self, path: str) -> None:
        with self.lock:
            self.store.restore(json.loads(Path(path).read_text()))

    def ledger(self) -> dict:
        with self.lock:
            return {name: [dict(r) for r in self.store.tables[name].values()]
                    for name in ("expenses", "journal_entries", "accounts", "bank_accounts")}

    def documents(self, company_id: int = 1) -> list[dict]:
        """Expenses the company holds, soft-deleted ones included (check `deleted_at`)."""
        with self.lock:
            return [dict(r) for r in self.store.rows("expenses", company_id)]

    # What a person does in Moon's UI (its API has no way): the testkit's tamper hooks use these.
    def edit_total(self, expense_id: int, total, company_id: int = 1) -> None:
        with self.lock:
            self.store.edit_total(self.store.get("expenses", company_id, expense_id), total)

    def manual_journal(self, on: str, lines: list[dict], company_id: int = 1) -> str:
        with self.lock:
            return f"journal:{self.store.manual_journal(company_id, on, lines, 'Posted by hand')['id']}"

    def revoke_all_credentials(self) -> None:
        with self.lock:
            for user in self.store.tables["users"].values():
                user["token"] = None

    def set_permissions(self, token: str, permissions: list[str]) -> None:
        with self.lock:
            self.store.user_for_token(token)["permissions"] = list(permissions)

    def banner(self, base_url: str) -> list[str]:
        return [f"Moon ERP sandbox: {base_url}/api/accounting/expenses",
                f"  company 1 token (all permissions): {FULL_TOKEN}",
                f"  company 1 token (no approve/cancel): {CLERK_TOKEN}",
                f"  company 2 token: {OTHER_COMPANY_TOKEN}",
                f"  throttle: {self.throttle_per_minute or 'off'} requests/minute per token",
                f"  control: {base_url}/__sandbox__/"]

    def control(self, req: Request) -> Response:
        if req.method == "POST" and req.path.rstrip("/").endswith("/settings"):
            body = req.json() or {}
            with self.lock:
                if "throttle_per_minute" in body:
                    self.throttle_per_minute = body["throttle_per_minute"]
                if "strict_paying_account" in body:
                    self.store.strict_paying_account = bool(body["strict_paying_account"])
                if "closed_through" in body:
                    try:
                        self.store.closed_through = closed_through(body["closed_through"])
                    except ValueError as exc:
                        return Response(400, {"detail": str(exc)})
        return super().control(req)

    # Fault switches answer as Moon would, so the client's mapping is tested on Moon's bodies.
    def rate_limited_response(self, retry_after: str | None) -> Response:
        return message(429, "Too Many Attempts.", {"Retry-After": str(retry_after)} if retry_after is not None else {})

    def server_error_response(self, status: int, retry_after: str | None) -> Response:
        text = "Service Unavailable" if status == 503 else "Server Error"   # Laravel's production answers
        return message(status, text, {"Retry-After": str(retry_after)} if retry_after is not None else {})

    # Dispatch -----------------------------------------------------------------------------
    def handle(self, req: Request) -> Response:
        with self.lock:
            scheme, _, token = req.header("authorization").partition(" ")
            user = self.store.user_for_token(token) if scheme.lower() == "bearer" else None
            if user is None:
                return message(401, "Unauthenticated.")
            throttled = self._throttled(token)
            if throttled:
                return throttled
            try:
                return self._route(req, user)
            except Invalid as exc:
                return unprocessable(exc.errors)

    def _throttled(self, token: str) -> Response | None:
        if not self.throttle_per_minute:
            return None
        minute = int(time.time() // 60)
        start, count = self._throttle.get(token, (minute, 0))
        if start != minute:
            start, count = minute, 0
        count += 1
        self._throttle[token] = (start, count)
        limit = int(self.throttle_per_minute)
        if count > limit:
            wait = str(max(1, math.ceil((start + 1) * 60 - time.time())))
            return message(429, "Too Many Attempts.", {"Retry-After": wait, "X-RateLimit-Limit": str(limit),
                                                       "X-RateLimit-Remaining": "0"})
        return None

    def _route(self, req: Request, user: dict) -> Response:
        if req.path.rstrip("/") == "/api/user" and req.method == "GET":
            company = self.store.tables["companies"][user["company_id"]]
            return Response(200, {"data": {"id": user["id"], "name": user["name"], "email": user["email"],
                                           "company": company, "permissions": user["permissions"]}})
        if not req.path.startswith(PREFIX):
            return message(404, "Not found.")
        parts = [p for p in req.path[len(PREFIX):].split("/") if p]
        if parts and parts[0] == "expenses":
            return self._expenses(req, user, parts[1:])
        if parts and parts[0] in CATALOGS and len(parts) <= 2:
            return self._catalog(req, user, parts[0], parts[1:])
        return message(404, "Not found.")

    def _allowed(self, user: dict, permission: str) -> bool:
        return permission in user["permissions"]

    # Catalogs -----------------------------------------------------------------------------
    def _catalog(self, req: Request, user: dict, name: str, rest: list[str]) -> Response:
        table, company_id = CATALOGS[name], user["company_id"]
        if rest:
            row = self.store.get(table, company_id, rest[0]) if req.method == "GET" else None
            return Response(200, {"data": row}) if row else message(404, "Not found.")
        if req.method == "POST" and name in ("accounts", "bank-accounts"):
            if not self._allowed(user, "accounting.accounts.create"):
                return message(403, "This action is unauthorized.")
            body = req.json() or {}
            currency = self.store.tables["companies"][company_id]["currency"]
            row = (self.store.account_create(company_id, body) if name == "accounts"
                   else self.store.bank_account_create(company_id, body, currency))
            return Response(201, {"data": row})
        if req.method != "GET":
            return message(405, f"The {req.method} method is not supported for route {req.path.lstrip('/')}.")
        rows = self.store.rows(table, company_id)
        for param in ("type", "source_type"):
            if req.arg(param):
                rows = [r for r in rows if r.get(param) == req.arg(param)]
        if name == "journal-entries":
            rows = self._dated(req, rows)
            if req.arg("reversals") in ("1", "true"):
                rows = [r for r in rows if r.get("reversal_of")]
        if req.arg("search"):
            needle = req.arg("search").lower()
            rows = [r for r in rows if needle in r.get("name", "").lower() or needle in str(r.get("code", ""))]
        return self._page(req, rows)

    def _page(self, req: Request, rows: list[dict]) -> Response:
        rows = sorted(rows, key=lambda r: r["id"])
        try:
            page = max(1, int(req.arg("page") or 1))
        except ValueError:
            page = 1
        per_page = self.per_page
        last = max(1, math.ceil(len(rows) / per_page))
        query = {k: v[0] for k, v in req.query.items() if k != "page"}

        def link(n):
            return f"{req.base_url}{req.path}?{urlencode({**query, 'page': n})}"

        chunk = rows[(page - 1) * per_page: page * per_page]
        lang = "ar" if req.header("accept-language").lower().startswith("ar") else "en"
        data = [self._resource(r, lang) if "document_number" in r else r for r in chunk]
        return Response(200, {
            "data": data,
            "links": {"first": link(1), "last": link(last), "prev": link(page - 1) if page > 1 else None,
                      "next": link(page + 1) if page < last else None},
            "meta": {"current_page": page, "from": (page - 1) * per_page + 1 if chunk else None, "last_page": last,
                     "path": f"{req.base_url}{req.path}", "per_page": per_page,
                     "to": (page - 1) * per_page + len(chunk) if chunk else None, "total": len(rows)}})

    # Expenses -----------------------------------------------------------------------------
    def _resource(self, row: dict, lang: str = "en") -> dict:
        store, company_id = self.store, row["company_id"]

        def embed(table, row_id, fields):
            found = store.get(table, company_id, row_id) if row_id else None
            if not found:
                return None
            out = {k: found[k] for k in fields if k in found}
            if lang == "ar" and found.get("name_ar"):
                out["name"] = found["name_ar"]
            return out

        out = {k: v for k, v in row.items() if k != "cancelled_journal_entry_id"}
        out.update(
            expense_category=embed("transaction_categories", row["expense_category_id"], ("id", "code", "name", "name_ar")),
            tax_rate=embed("tax_rates", row.get("tax_rate_id"), ("id", "name", "rate")),
            paying_account=embed("accounts", row["paying_account_id"], ("id", "code", "name")),
            partner=embed("business_partners", row.get("partner_id"), ("id", "name", "name_ar")),
            status_label=STATUS_LABELS[row["status"]], payment_method_label=PAYMENT_METHODS[row["payment_method"]])
        return out

    def _short(self, row: dict) -> dict:
        keys = ("id", "document_number", "status", "journal_entry_id", "approved_by", "approved_at")
        return {**{k: row[k] for k in keys}, "status_label": STATUS_LABELS[row["status"]]}

    def _expenses(self, req: Request, user: dict, rest: list[str]) -> Response:
        store, company_id = self.store, user["company_id"]
        view = self._allowed(user, "accounting.expenses.view")
        if not rest:
            if req.method == "GET":
                if not view:
                    return message(403, "This action is unauthorized.")
                return self._page(req, self._filtered(req, company_id))
            if req.method == "POST":
                if not self._allowed(user, "accounting.expenses.create"):
                    return message(403, "This action is unauthorized.")
                body = req.json()
                if not isinstance(body, dict):
                    body = {}
                return Response(201, {"data": self._resource(store.expense_create(user, body))})
            return message(405, f"The {req.method} method is not supported for this route.")
        row = store.get("expenses", company_id, rest[0])
        if row is None or row.get("deleted_at") or len(rest) > 2:
            return message(404, "Not found.")
        if len(rest) == 2:
            action = rest[1]
            if req.method != "POST" or action not in ACTION_PERMISSION:
                return message(404, "Not found.")
            if not self._allowed(user, ACTION_PERMISSION[action]):
                return message(403, "This action is unauthorized.")
            changed = store.expense_approve(user, row) if action == "approve" else store.expense_cancel(user, row)
            return Response(200, {"data": self._short(changed)})
        if req.method == "GET":
            return Response(200, {"data": self._resource(row)}) if view else message(403, "This action is unauthorized.")
        if req.method in ("PUT", "PATCH"):
            if not self._allowed(user, "accounting.expenses.update"):
                return message(403, "This action is unauthorized.")
            body = req.json()
            return Response(200, {"data": self._resource(store.expense_update(user, row, body if isinstance(body, dict) else {}))})
        if req.method == "DELETE":
            # Inferred: deleting a draft needs the update permission (no delete permission is listed).
            if not self._allowed(user, "accounting.expenses.update"):
                return message(403, "This action is unauthorized.")
            store.expense_delete(row)
            return Response(200, {"message": "Expense deleted successfully."})
        return message(405, f"The {req.method} method is not supported for this route.")

    def _filtered(self, req: Request, company_id: int) -> list[dict]:
        rows = [r for r in self.store.rows("expenses", company_id) if not r.get("deleted_at")]
        for param in EXPENSE_FILTERS:
            value = req.arg(param)
            if value:
                rows = [r for r in rows if str(r.get(param)) == value]
        return self._dated(req, rows)

    @staticmethod
    def _dated(req: Request, rows: list[dict]) -> list[dict]:
        if req.arg("date_from"):
            rows = [r for r in rows if r["date"] >= req.arg("date_from")]
        if req.arg("date_to"):
            rows = [r for r in rows if r["date"] <= req.arg("date_to")]
        return rows


def make_server(*, host: str = "127.0.0.1", port: int = 0, snapshot: str | None = None, verbose: bool = False,
                throttle_per_minute: int | None = 60) -> SandboxServer:
    return SandboxServer(MoonSandbox(snapshot=snapshot, throttle_per_minute=throttle_per_minute),
                         host=host, port=port, verbose=verbose)



