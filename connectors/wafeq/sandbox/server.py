"""A faithful Wafeq sandbox: `/v1/` API and `/oauth/` on one port, in-memory state.

It follows ../shared/vendor-apis/wafeq.md: trailing-slash paths, page/page_size pagination with
absolute links, drf-standardized-errors bodies (`validation_error` naming the field), the
`X-Wafeq-Idempotency-Key` replay cache (2xx only, per credential, `X-Wafeq-Idempotent-Replayed`),
authorization code + PKCE, and the fault switches of `connectors.sandboxing`. Request bodies are
validated against the shipped OpenAPI subset, so a field Wafeq would reject is rejected here.

Where the contract is silent, these are choices:
- `page_size` is clamped to `max_page_size` (1000; DRF's way: a larger request is clamped, never
  refused). Tests may lower it to exercise paging.
- Lock date: Wafeq has one in its app settings, but the API offers no way to set or read it, so it
  is set on the control endpoint (`POST /__sandbox__/lock-date` `{"lock_date": "YYYY-MM-DD"|null}`).
  Creating, changing, deleting, posting or un-posting an expense, manual journal or ledger
  transaction dated on or before it answers 400 `validation_error` on `date`, code
  `period_locked`, the lock date in the detail.
"""

import base64
import hashlib
import json
import secrets
import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from ...sandboxing.server import Request, Response, SandboxApp, SandboxServer
from . import spec as wspec
from .oauth import OAuthMixin
from .rules import business_rules, validate_schema

SEED = Path(__file__).parent / "fixtures" / "seed.json"
BASE57 = "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
API_KEY = "sbxWafeq.k3yForTheExpensicoSandbox00000001"
CLIENT_ID = "expensico-sandbox-client"
CLIENT_SECRET = "sandbox-client-secret-not-for-production"
LOCKED_COLLECTIONS = ("expenses", "manual-journals", "ledger-transactions")
# collection → (schema, id prefix, list path)
COLLECTIONS = {
    "accounts": ("Account", "acc"), "bank-accounts": ("BankAccount", "ba"), "tax-rates": ("TaxRate", "tax"),
    "contacts": ("api-v1-external-contact-read-write", "cnt"), "cost-centers": ("CostCenter", "cc"),
    "projects": ("Project", "prj"), "branches": ("Branch", "br"), "files": ("api-v1-external-file-read", "att"),
    "expenses": ("Expense", "exp"), "manual-journals": ("ManualJournal", "mj"),
    "ledger-transactions": ("BankLedgerTransaction", "bt"),
    "statement-transactions": ("BankStatementTransaction", "bst"),
}


def new_id(prefix: str) -> str:
    return f"{prefix}_" + "".join(secrets.choice(BASE57) for _ in range(22))


def now_ts() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def error(status: int, code: str, detail: str, attr=None, kind="client_error") -> Response:
    return Response(status, {"type": kind, "errors": [{"code": code, "detail": detail, "attr": attr}]})


def invalid(errors: list[tuple[str, str, str]]) -> Response:
    return Response(400, {"type": "validation_error",
                          "errors": [{"attr": a, "code": c, "detail": d} for a, c, d in errors]})


class WafeqSandbox(OAuthMixin, SandboxApp):
    name = "wafeq"

    def __init__(self, *, seed_path: Path = SEED, snapshot: str | None = None):
        super().__init__()
        self.seed_path, self.snapshot = seed_path, snapshot
        self.lock = threading.RLock()
        self.rotate_refresh_tokens = False
        self.max_page_size = 1000
        self.reset()
        if snapshot and Path(snapshot).exists():
            self.load(snapshot)

    # State ------------------------------------------------------------------------------
    def reset(self) -> None:
        with self.lock:
            self.store: dict[str, dict[str, dict]] = {name: {} for name in COLLECTIONS}
            self.idempotency: dict[tuple[str, str], tuple[int, object]] = {}
            self.api_keys = {API_KEY}
            self.lock_date: str | None = None
            self.oauth_reset()
            seed = json.loads(self.seed_path.read_text())
            org = seed["organization"]
            ts = now_ts()
            self.organization = {
                "id": new_id("co"), "name": org["name"], "created_ts": ts, "modified_ts": ts, "legacy_id": "",
                "users": [{"id": new_id("usr"), "email": u["email"]} for u in org["users"]], "warehouses": [],
                "financial_settings": {"base_currency": org["base_currency"], "country": org["country"],
                                       "address": {"en": "King Fahd Road"}, "city": {"en": "Riyadh"},
                                       "district": {"en": "Olaya"}, "state": "", "company_identification": []},
            }
            for name, rows in (("accounts", seed["accounts"]), ("tax-rates", seed["tax_rates"]),
                               ("contacts", seed["contacts"]), ("cost-centers", seed["cost_centers"]),
                               ("projects", seed["projects"])):
                for row in rows:
                    self._insert(name, self._defaults(name, row))
            for row in seed["branches"]:
                self._insert("branches", {"address": {"en": ""}, "building_number": "", "district": {"en": ""},
                                          "phone": "", "postal_code": "", "state": "", "is_active": True, **row})
            for row in seed["bank_accounts"]:
                self._create_bank_account(row)

    def save(self, path: str | None = None) -> None:
        path = path or self.snapshot
        with self.lock:
            Path(path).write_text(json.dumps({
                "store": self.store, "organization": self.organization, "api_keys": sorted(self.api_keys),
                "tokens": self.tokens, "refresh_tokens": self.refresh_tokens}))

    def load(self, path: str) -> None:
        data = json.loads(Path(path).read_text())
        with self.lock:
            self.store, self.organization = data["store"], data["organization"]
            self.api_keys = set(data.get("api_keys", self.api_keys))
            self.tokens, self.refresh_tokens = data.get("tokens", {}), data.get("refresh_tokens", {})

    def ledger(self) -> dict:
        with self.lock:
            return {name: [dict(v) for v in rows.values()] for name, rows in self.store.items()
                    if name in ("expenses", "manual-journals", "ledger-transactions", "statement-transactions",
                                "accounts", "bank-accounts", "files")}

    def documents(self, collection: str = "expenses") -> list[dict]:
        with self.lock:
            return [dict(v) for v in self.store[collection].values()]

    def revoke_all_credentials(self) -> None:
        """Simulates a customer revoking access: every key and token stops working."""
        with self.lock:
            self.api_keys.clear()
            self.tokens.clear()
            self.refresh_tokens.clear()

    def banner(self, base_url: str) -> list[str]:
        return [f"Wafeq sandbox: {base_url}/v1/", f"  api key: {API_KEY}",
                f"  oauth client id: {CLIENT_ID}", f"  oauth client secret: {CLIENT_SECRET}",
                f"  oauth authorize: {base_url}/oauth/authorize/", f"  control: {base_url}/__sandbox__/"]

    def _insert(self, name: str, row: dict) -> dict:
        ts = now_ts()
        row = {"id": new_id(COLLECTIONS[name][1]), "created_ts": ts, "modified_ts": ts, "legacy_id": "", **row}
        self.store[name][row["id"]] = row
        return row

    def _defaults(self, name: str, row: dict) -> dict:
        schema = wspec.spec()["components"]["schemas"][COLLECTIONS[name][0]]
        out = {k: v["default"] for k, v in schema["properties"].items() if "default" in v and not v.get("readOnly")}
        if name == "accounts":
            out.update(is_locked=False, is_system=False, parent=None, name_ar="", is_posting=True)
        if name == "tax-rates":
            out["friendly_name"] = f"{row['name']} ({Decimal(str(row['rate'])) * 100:g}%)"
        if name == "contacts":
            out.update(persons=[], beneficiaries=[], email="", phone="")
        return {**out, **row}

    def _create_bank_account(self, row: dict) -> dict:
        classification = "LIABILITY" if row.get("sub_classification") == "CREDIT_CARD" else "ASSET"
        codes = {a["account_code"] for a in self.store["accounts"].values()}
        code = next(str(c) for c in range(1100, 1200) if str(c) not in codes)
        linked = self._insert("accounts", self._defaults("accounts", {
            "account_code": code, "name_en": row["name"], "classification": classification,
            "sub_classification": "CASH_EQUIVALENTS" if classification == "ASSET" else "CURRENT_LIABILITY",
            "account_type": "CASH_EQUIVALENTS" if classification == "ASSET" else "OTHER_CURRENT_LIABILITIES",
            "is_payment_enabled": True}))
        return self._insert("bank-accounts", {"name": row["name"], "currency": row["currency"],
                                              "sub_classification": row.get("sub_classification", "BANK"),
                                              "classification": classification, "account": linked["id"]})

    def control(self, req: Request) -> Response:
        if req.method == "POST" and req.path.rstrip("/").endswith("/lock-date"):
            value = (req.json() or {}).get("lock_date")
            with self.lock:
                self.lock_date = value and date.fromisoformat(value).isoformat()
            return Response(200, {"lock_date": self.lock_date})
        return super().control(req)

    def locked(self, *dates: str | None) -> Response | None:
        """The answer to a write touching a date on or before the lock date, else None."""
        if self.lock_date and any(d and str(d) <= self.lock_date for d in dates):
            return invalid([("date", "period_locked", f"Transactions dated on or before the lock date "
                                                      f"{self.lock_date} cannot be created or changed.")])
        return None

    # Dispatch ---------------------------------------------------------------------------
    def handle(self, req: Request) -> Response:
        if req.path.startswith("/oauth/"):
            return self.oauth_handle(req)
        if not req.path.startswith("/v1/"):
            return error(404, "not_found", "Not found.")
        principal = self._authenticate(req)
        if principal is None:
            code = "not_authenticated" if not req.header("authorization") else "authentication_failed"
            return error(401, code, "Authentication credentials were not provided." if code == "not_authenticated"
                         else "Invalid API key or token.")
        if not req.path.endswith("/"):
            return error(404, "not_found", "Not found.")
        key = req.header("x-wafeq-idempotency-key")
        with self.lock:
            if key and req.method != "GET":
                cached = self.idempotency.get((principal, key))
                if cached:
                    status, body = cached
                    return Response(status, body, self._replay_header(req, status, "true"))
            resp = self._route(req)
            if key and req.method != "GET" and 200 <= resp.status < 300:
                # Only 2xx answers are cached (vendor notes §4, sandbox proposal).
                self.idempotency[(principal, key)] = (resp.status, resp.body)
                resp.headers.update(self._replay_header(req, resp.status, "false"))
            return resp

    @staticmethod
    def _replay_header(req: Request, status: int, value: str) -> dict:
        # Sent only where the spec declares it (creates), as Wafeq's generated schema shows.
        found = wspec.operation_for(req.method, req.path)
        declared = found and found[1].get("responses", {}).get(str(status), {}).get("headers", {})
        return {"X-Wafeq-Idempotent-Replayed": value} if declared else {}

    def _authenticate(self, req: Request) -> str | None:
        scheme, _, value = req.header("authorization").partition(" ")
        if scheme == "Api-Key" and value in self.api_keys:
            return "key:" + value
        if scheme == "Bearer" and self.token_valid(value):
            return "token:" + self.tokens[value]["grant"]
        return None

    def _route(self, req: Request) -> Response:
        parts = [p for p in req.path[len("/v1/"):].split("/") if p]
        if parts == ["organization"] and req.method == "GET":
            return Response(200, {**self.organization, "branches": list(self.store["branches"].values())})
        if len(parts) >= 3 and parts[0] == "bank-accounts" and parts[2] in ("ledger-transactions",
                                                                             "statement-transactions"):
            if parts[1] not in self.store["bank-accounts"]:
                return error(404, "not_found", "Not found.")
            return self._resource(req, parts[2], parts[3:], parent=parts[1])
        if parts and parts[0] in COLLECTIONS and parts[0] not in ("ledger-transactions", "statement-transactions"):
            if len(parts) == 3 and parts[0] == "expenses" and parts[2] in ("mark-as-posted", "mark-as-draft"):
                return self._expense_status(req, parts[1], "POSTED" if parts[2] == "mark-as-posted" else "DRAFT")
            return self._resource(req, parts[0], parts[1:])
        return error(404, "not_found", "Not found.")

    def _resource(self, req: Request, name: str, rest: list[str], parent: str | None = None) -> Response:
        rows = self.store[name]
        if not rest:
            if req.method == "GET":
                return self._list(req, name, parent)
            if req.method == "POST":
                return self._create(req, name, parent)
            return error(405, "method_not_allowed", f'Method "{req.method}" not allowed.')
        row = rows.get(rest[0])
        if row is None or (parent and row.get("bank_account") != parent) or len(rest) > 1:
            return error(404, "not_found", "Not found.")
        if req.method == "GET":
            return Response(200, row)
        if req.method == "DELETE":
            if name in LOCKED_COLLECTIONS and (refused := self.locked(row.get("date"))):
                return refused
            if name == "expenses" and row["status"] == "POSTED":
                return error(403, "permission_denied", "Posted expenses cannot be deleted; mark it as draft first.")
            del rows[rest[0]]
            self._unpost(row) if name == "expenses" else None
            return Response(204)
        if req.method in ("PUT", "PATCH"):
            return self._create(req, name, parent, existing=row, partial=req.method == "PATCH")
        return error(405, "method_not_allowed", f'Method "{req.method}" not allowed.')

    # Lists ------------------------------------------------------------------------------
    def _list(self, req: Request, name: str, parent: str | None) -> Response:
        rows = [r for r in self.store[name].values() if not parent or r.get("bank_account") == parent]
        op = wspec.operation_for("GET", req.path)
        declared = {p["name"] for p in (op[1].get("parameters", []) if op else [])}
        for param, values in req.query.items():
            value = values[0]
            if param in ("page", "page_size") or param not in declared:
                continue
            if param.endswith(("_ts_after", "_ts_before")):
                fieldname = param.rsplit("_", 1)[0]
                after = param.endswith("_after")
                rows = [r for r in rows if (r[fieldname] >= value if after else r[fieldname] <= value)]
            elif param in ("date_after", "date_before"):
                rows = [r for r in rows if (r["date"] >= value if param == "date_after" else r["date"] <= value)]
            elif param == "keyword":
                rows = [r for r in rows if value.lower() in r.get("name", "").lower()]
            elif value == "__null__":
                rows = [r for r in rows if r.get(param) in (None, "")]
            elif param in ("is_payment_enabled", "is_system"):
                rows = [r for r in rows if bool(r.get(param)) == (value.lower() == "true")]
            else:
                rows = [r for r in rows if str(r.get(param, "")) == value]
        try:
            page = int(req.arg("page", "1"))
            size = max(1, min(int(req.arg("page_size", "50")), self.max_page_size))
        except ValueError:
            return error(404, "not_found", "Invalid page.")
        pages = max(1, -(-len(rows) // size))
        if page < 1 or page > pages:
            return error(404, "not_found", "Invalid page.")

        def link(n):
            query = {k: v[0] for k, v in req.query.items()}
            query["page"] = str(n)
            return f"{req.base_url}{req.path}?" + "&".join(f"{k}={v}" for k, v in query.items())

        return Response(200, {"count": len(rows), "next": link(page + 1) if page < pages else None,
                              "previous": link(page - 1) if page > 1 else None,
                              "results": rows[(page - 1) * size: page * size]})

    # Writes -----------------------------------------------------------------------------
    def _create(self, req: Request, name: str, parent: str | None, existing: dict | None = None,
                partial: bool = False) -> Response:
        if name == "files":
            return self._upload(req)
        try:
            body = req.json()
        except ValueError:
            return error(400, "parse_error", "JSON parse error.")
        if not isinstance(body, dict):
            return invalid([("non_field_errors", "invalid", "Invalid data. Expected a dictionary.")])
        schema_name = COLLECTIONS[name][0]
        props = wspec.spec()["components"]["schemas"][schema_name]["properties"]
        body = {k: v for k, v in body.items() if k in props and not props[k].get("readOnly")}
        merged = {**existing, **body} if (existing and partial) else body
        problems = validate_schema(schema_name, {k: v for k, v in merged.items() if not props[k].get("readOnly")})
        problems += business_rules(self.store, name, merged, existing)
        if problems:
            return invalid(problems)
        if name in LOCKED_COLLECTIONS and (refused := self.locked(merged.get("date"), (existing or {}).get("date"))):
            return refused
        if existing:
            existing.update(body, modified_ts=now_ts())
            return Response(200, existing)
        if name == "bank-accounts":
            return Response(201, self._create_bank_account(body))
        row = self._defaults(name, body)
        if parent:
            row["bank_account"] = parent
        if name == "expenses":
            row.setdefault("attachments", [])
            row["status"] = "POSTED"   # inferred: mark-as-draft acts on "a posted expense"
            row = self._insert(name, row)
            self._post(row)
            return Response(201, row)
        if name == "ledger-transactions":
            row["is_manual"] = True
        if name == "statement-transactions":
            previous = sum(Decimal(str(r["amount"])) for r in self.store[name].values() if r["bank_account"] == parent)
            row.update(is_posted=False, calculated_balance=float(previous + Decimal(str(row["amount"]))))
            row.setdefault("bank_reference", "")
            row.setdefault("reference", "")
            row.setdefault("description", "")
        if name == "manual-journals":
            row["serial_number"] = f"MJ-{len(self.store[name]) + 1:05d}"
            row = self._insert(name, row)
            row["line_items"] = [{**li, "id": new_id("mjli"), "manual_journal": row["id"], "legacy_id": "",
                                  "created_ts": row["created_ts"], "modified_ts": row["created_ts"],
                                  "exchange_rate": li.get("exchange_rate", 1.0)} for li in row.get("line_items", [])]
            return Response(201, row)
        return Response(201, self._insert(name, row))

    def _upload(self, req: Request) -> Response:
        if req.content_type != "multipart/form-data":
            return error(415, "unsupported_media_type", f'Unsupported media type "{req.content_type}" in request.')
        files = req.files()
        if "file" not in files:
            return invalid([("file", "required", "No file was submitted.")])
        filename, mime, content = files["file"]
        row = self._insert("files", {"original_filename": filename[:200], "mime_type": mime, "file_size": len(content),
                                     "sha256": hashlib.sha256(content).hexdigest()})
        row["file"] = f"{req.base_url}/files-content/{row['id']}/{filename}"
        return Response(201, {k: v for k, v in row.items() if k != "sha256"})

    # Expense posting: a posted expense paid through a bank's linked account shows up as a
    # non-manual ledger transaction on that bank account (vendor notes §7.6).
    def _expense_status(self, req: Request, expense_id: str, status: str) -> Response:
        row = self.store["expenses"].get(expense_id)
        if row is None:
            return error(404, "not_found", "Not found.")
        if row["status"] != status and (refused := self.locked(row["date"])):
            return refused
        if row["status"] != status:
            row.update(status=status, modified_ts=now_ts())
            self._post(row) if status == "POSTED" else self._unpost(row)
        return Response(200, row)

    def _post(self, expense: dict) -> None:
        for bank in self.store["bank-accounts"].values():
            if bank["account"] == expense["paid_through_account"]:
                self._insert("ledger-transactions", {
                    "bank_account": bank["id"], "account": expense["account"], "amount": -expense["amount"],
                    "date": expense["date"], "description": expense["description"], "reference": expense["id"],
                    "contact": None, "project": None, "tax_rate": None, "is_manual": False})

    def _unpost(self, expense: dict) -> None:
        for tx_id, tx in list(self.store["ledger-transactions"].items()):
            if not tx["is_manual"] and tx["reference"] == expense["id"]:
                del self.store["ledger-transactions"][tx_id]


def make_server(*, host: str = "127.0.0.1", port: int = 0, snapshot: str | None = None,
                verbose: bool = False) -> SandboxServer:
    return SandboxServer(WafeqSandbox(snapshot=snapshot), host=host, port=port, verbose=verbose)


def basic_auth(client_id: str = CLIENT_ID, client_secret: str = CLIENT_SECRET) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()


TOKEN_TTL = timedelta(hours=1)
