"""A faithful Business Central sandbox: Entra token endpoint + API v2.0 on one HTTPS port.

Follows ../shared/vendor-apis/business-central.md (A14 checklist): `/{tenant}/v2.0/.well-known/
openid-configuration` and `/{tenant}/oauth2/v2.0/token` (client credentials, `.default` scope),
`/v2.0/{tenant}/{env}/api/v2.0/companies({id})/…` with `$filter/$select/$top/$expand`,
`Prefer: odata.maxpagesize` + `@odata.nextLink`, `@odata.etag` + `If-Match` on PATCH/DELETE,
nested journal lines / invoice lines / dimensionSetLines, attachments (two-step upload), bound
`Microsoft.NAV.post` (204), JSON `$batch` (≤100 operations, outer 200, inner statuses) and OData
error bodies with BC's codes. It is HTTPS because msal only accepts https authorities: the
banner prints the certificate to trust (`ca_bundle`).

Choices where the contract says "unknown":
* `Isolation: snapshot` batch with a failing operation: everything is rolled back; the failing
  operation answers its error, every other one `424` (failed dependency).
* A stale `If-Match` answers 412 `BadRequest_InvalidToken`; a missing one 400 with the same code.
* Posted purchase invoices are undone with `purchaseCreditMemos` (+ `purchaseCreditMemoLines`,
  `invoiceId`, `vendorCreditMemoNumber`, bound `Microsoft.NAV.post`): not in the contract file,
  modelled on BC's v2.0 credit memo resource; posting it marks the invoice `Corrective`.
* Creating G/L accounts: API v2.0 `accounts` is read-only, as documented. The sandbox also
  serves BC's OData V4 web-service page `ODataV4/Company('<name>')/Chart_of_Accounts` (page 16,
  which a customer can publish in *Web Services*), which is what `ensure_account` uses.
* Fault switches answer in OData's shape (`Unknown`, or `Request_EntityChanged` for 409) with the
  switch's `Retry-After`; `answer_after_commit` carries a request out, then answers 408/504.
* General Ledger Setup "Allow Posting From/To" is served as the published OData V4 page
  `General_Ledger_Setup` (page 118; API v2.0 has no setup entity). Like BC, the range is checked
  when a journal, purchase invoice or credit memo is posted, not when its lines are entered:
  400 `Application_DialogException` "Posting Date is not within your range of allowed posting
  dates in …" (BC's own text).
* Deleting a journal batch deletes its lines; an attachment must name an existing parent for
  `parentType` `Journal` (a journal line) or `Purchase Invoice`.
"""

import json
import re
import threading
from pathlib import Path
from urllib.parse import unquote

from ...sandboxing.server import Request, Response, SandboxApp
from .entra import EntraMixin
from .odata import ODataError, TlsSandboxServer, apply_query, error, etag
from .pages import BLANK_DATE, GL_SETUP_FIELDS, ChartOfAccountsMixin
from .store import LINES, READ_ONLY, Rules, new_id, now_ts
from .wire import WireMixin

SEED_PATH = Path(__file__).parent / "fixtures" / "seed.json"
SEED = json.loads(SEED_PATH.read_text())
TENANT, ENVIRONMENT = SEED["tenant"], SEED["environment"]
CLIENT_ID, CLIENT_SECRET = SEED["client_id"], SEED["client_secret"]
API_PREFIX = f"/v2.0/{TENANT}/{ENVIRONMENT}/api/v2.0/"
ODATA_PREFIX = f"/v2.0/{TENANT}/{ENVIRONMENT}/ODataV4/"
_SEGMENT = re.compile(r"^([\w.$]+)(?:\((.*)\))?$")
CHILDREN = {("journals", "journalLines"): "journalId", ("purchaseInvoices", "purchaseInvoiceLines"): "documentId",
            ("purchaseCreditMemos", "purchaseCreditMemoLines"): "documentId",
            ("dimensions", "dimensionValues"): "dimensionId", ("journalLines", "dimensionSetLines"): "parentId",
            ("purchaseInvoices", "dimensionSetLines"): "parentId",
            ("purchaseInvoiceLines", "dimensionSetLines"): "parentId"}
# `$expand` a collection may take: navigation property → the child's link to its parent.
EXPANDS = {("dimensions", "dimensionValues"): "dimensionId", ("journals", "journalLines"): "journalId",
           ("purchaseInvoices", "purchaseInvoiceLines"): "documentId"}
PARENT_TYPES = {"journalLines": "Journal Line", "purchaseInvoices": "Purchase Invoice",
                "purchaseInvoiceLines": "Purchase Invoice Line"}
SETS = ("accounts", "bankAccounts", "vendors", "employees", "journals", "journalLines", "purchaseInvoices",
        "purchaseInvoiceLines", "dimensions", "dimensionValues", "dimensionSetLines", "currencies", "taxGroups",
        "attachments", "generalLedgerEntries", "companyInformation", "purchaseCreditMemos", "purchaseCreditMemoLines")


def _segments(path: str) -> list[tuple[str, str | None]]:
    out = []
    for part in [p for p in unquote(path).split("/") if p]:
        match = _SEGMENT.match(part)
        if not match:
            raise ODataError(404, "BadRequest_NotFound", f"No HTTP resource was found that matches '{part}'.")
        key = match.group(2)
        out.append((match.group(1), key.strip("'") if key is not None else None))
    return out


class BusinessCentralSandbox(EntraMixin, WireMixin, ChartOfAccountsMixin, Rules, SandboxApp):
    name = "business_central"
    tenant = TENANT
    api_prefix, odata_prefix = API_PREFIX, ODATA_PREFIX

    def __init__(self, *, snapshot: str | None = None):
        super().__init__()
        self.snapshot, self.ca_bundle = snapshot, ""
        self.late_answers = []
        self.max_page_size = 20000      # documented online maximum; tests lower it to show paging
        self.lock = threading.RLock()
        self.reset()
        if snapshot and Path(snapshot).exists():
            self.load(snapshot)

    # State ------------------------------------------------------------------------------
    def reset(self) -> None:
        with self.lock:
            self.sets: dict[str, dict[str, dict]] = {name: {} for name in SETS}
            self.tokens: set[str] = set()
            self.client_secrets = {CLIENT_ID: CLIENT_SECRET}
            self.attachment_bytes: dict[str, int] = {}
            self.gl_setup = {name: BLANK_DATE for name in GL_SETUP_FIELDS}
            self.company = {"id": new_id(), "systemVersion": "25.0.23364.0", "name": SEED["company"]["name"],
                            "displayName": SEED["company"]["displayName"], "businessProfileId": "",
                            "currency": SEED["company"]["currency"]}
            self._put("companyInformation", {"displayName": self.company["displayName"],
                                             "currencyCode": self.company["currency"], "country": "GB"})
            for row in SEED["accounts"]:
                self._put("accounts", {"subCategory": "", "blocked": False, "netChange": 0, **row})
            for name in ("bankAccounts", "vendors", "employees", "currencies", "taxGroups"):
                for row in SEED[name]:
                    self._put(name, {"blocked": False, **row} if name in ("bankAccounts", "vendors") else dict(row))
            for dim in SEED["dimensions"]:
                parent = self._put("dimensions", {"code": dim["code"], "displayName": dim["displayName"],
                                                  "consolidationCode": ""})
                for code, label in dim["values"]:
                    self._put("dimensionValues", {"code": code, "dimensionId": parent["id"], "displayName": label,
                                                  "consolidationCode": ""})

    def _put(self, entity: str, row: dict, key: str | None = None) -> dict:
        row = {"id": row.get("id") or new_id(), **row, "lastModifiedDateTime": now_ts()}
        row["_v"] = row.get("_v", 0) + 1
        self.sets[entity][key or row["id"]] = row
        return row

    def save(self, path: str | None = None) -> None:
        with self.lock:
            Path(path or self.snapshot).write_text(json.dumps({"sets": self.sets, "company": self.company,
                                                               "tokens": sorted(self.tokens)}))

    def load(self, path: str) -> None:
        data = json.loads(Path(path).read_text())
        with self.lock:
            self.sets, self.company, self.tokens = data["sets"], data["company"], set(data["tokens"])

    def ledger(self) -> dict:
        with self.lock:
            return {name: [self.render(r) for r in self.sets[name].values()]
                    for name in ("journalLines", "generalLedgerEntries", "purchaseInvoices", "purchaseInvoiceLines",
                                 "dimensionSetLines", "attachments", "accounts", "bankAccounts", "journals")}

    def documents(self, reference_short: str) -> list[dict]:
        """Live documents carrying a document number: unposted journal documents, posted ones
        (G/L entries grouped by document number) and purchase invoices."""
        with self.lock:
            key = reference_short.upper()
            docs = []
            lines = [r for r in self.sets["journalLines"].values() if r["documentNumber"] == key]
            if lines:
                docs.append({"kind": "journal", "documentNumber": key, "lines": lines})
            entries = [r for r in self.sets["generalLedgerEntries"].values() if r["documentNumber"] == key]
            if entries:
                docs.append({"kind": "posted", "documentNumber": key, "entries": entries})
            docs += [{"kind": "purchaseInvoice", **r} for r in self.sets["purchaseInvoices"].values()
                     if r["vendorInvoiceNumber"] == key]
            return docs

    def revoke_all_credentials(self) -> None:
        with self.lock:
            self.tokens.clear()
            self.client_secrets.clear()

    def banner(self, base_url: str) -> list[str]:
        return [f"Business Central sandbox: {base_url}{API_PREFIX}",
                f"  authority (Entra): {base_url}/{TENANT}", f"  tenant: {TENANT}  environment: {ENVIRONMENT}",
                f"  client id: {CLIENT_ID}", f"  client secret: {CLIENT_SECRET}",
                f"  trust this certificate (ca_bundle): {self.ca_bundle}",
                f"  company: {self.company['name']} ({self.company['id']})", f"  control: {base_url}/__sandbox__/"]

    @staticmethod
    def render(row: dict) -> dict:
        out = {k: v for k, v in row.items() if not k.startswith("_")}
        if "_v" in row:
            out["@odata.etag"] = etag(row["_v"])
        return out

    # Dispatch ---------------------------------------------------------------------------
    def handle(self, req: Request) -> Response:
        return self.late_answer(req, self._dispatch(req))

    def _dispatch(self, req: Request) -> Response:
        with self.lock:
            try:
                if req.path.startswith(f"/{TENANT}/") or req.path.split("/")[1:2] != ["v2.0"]:
                    return self.entra(req)
                if not self._authorised(req):
                    return error(401, "Authentication_InvalidCredentials",
                                 "The server has rejected the client credentials.")
                if req.path.startswith(ODATA_PREFIX):
                    return self.odata_page(req)
                if not req.path.startswith(API_PREFIX):
                    return error(404, "BadRequest_NotFound", "The requested resource was not found.")
                rest = req.path[len(API_PREFIX):]
                if rest == "$batch":
                    return self.batch(req)
                body = req.json() if req.body and req.content_type in ("application/json", "") else None
                return self.api(req.method, rest, req.query, req.headers, body, req)
            except ODataError as exc:
                return exc.response()
            except ValueError:
                return error(400, "BadRequest", "The request body is not valid JSON.")

    def _authorised(self, req: Request) -> bool:
        scheme, _, token = req.header("authorization").partition(" ")
        return scheme == "Bearer" and token in self.tokens

    # API ----------------------------------------------------------------------------------
    def api(self, method: str, rest: str, query: dict, headers: dict, body, req: Request | None) -> Response:
        segments = _segments(rest)
        if segments == [("companies", None)] and method == "GET":
            return self._collection(req, [self.render(self.company)], query)
        if not segments or segments[0][0] != "companies":
            raise ODataError(404, "BadRequest_NotFound", f"Resource not found for the segment '{rest}'.")
        if segments[0][1] != self.company["id"]:
            raise ODataError(404, "Internal_CompanyNotFound", "The company does not exist.")
        segments = segments[1:]
        if not segments:
            return Response(200, self.render(self.company)) if method == "GET" else self._not_allowed(method)
        entity, key = segments[0]
        if entity not in self.sets:
            raise ODataError(404, "BadRequest_NotFound", f"Resource not found for the segment '{entity}'.")
        if len(segments) == 1:
            return self._item(method, entity, key, query, headers, body, req) if key \
                else self._set(method, entity, query, body, req)
        name, child_key = segments[1]
        if name == "$count" and not key:
            return Response(200, str(len(self.sets[entity])).encode("utf-8-sig"), content_type="text/plain")
        row = self._get(entity, key)
        if name == "Microsoft.NAV.post" and method == "POST":
            if entity == "journals":
                self.post_journal(row)
            elif entity == "purchaseInvoices":
                self.post_invoice(row)
            elif entity == "purchaseCreditMemos":
                self.post_credit_memo(row)
            else:
                return self._not_allowed(method)
            return Response(204)
        if entity == "attachments" and name == "attachmentContent":
            if method != "PATCH":
                return self._not_allowed(method)
            self._check_etag(row, headers)
            raw = req.body if req is not None else json.dumps(body).encode()
            row.update(byteSize=len(raw))
            row["_v"] += 1
            return Response(204)
        if (entity, name) not in CHILDREN:
            raise ODataError(404, "BadRequest_NotFound", f"Resource not found for the segment '{name}'.")
        if child_key:
            return self._item(method, name, child_key, query, headers, body, req, parent=(entity, row))
        return self._set(method, name, query, body, req, parent=(entity, row))

    def _get(self, entity: str, key: str) -> dict:
        if entity == "dimensionSetLines":
            raise ODataError(404, "BadRequest_NotFound", "Address dimension set lines through their parent.")
        row = self.sets[entity].get(key)
        if row is None:
            raise ODataError(404, "BadRequest_NotFound", f"The {entity} with id {key} does not exist.")
        return row

    def _not_allowed(self, method: str) -> Response:
        return error(405, "BadRequest_MethodNotAllowed", f"'{method}' requests for this resource are not supported.")

    def _set(self, method, entity, query, body, req, parent=None) -> Response:
        rows = list(self.sets[entity].values())
        if parent:
            link = CHILDREN[(parent[0], entity)]
            rows = [r for r in rows if r.get(link) == parent[1]["id"]]
        if method == "GET":
            rendered = [self.render(r) for r in rows]
            if entity == "journalLines":
                rendered = _gettable_lines(rendered)
            for (owner, child), link in EXPANDS.items():
                if entity == owner and child in (query.get("$expand") or [""])[0]:
                    for r in rendered:
                        kids = [self.render(v) for v in self.sets[child].values() if v[link] == r["id"]]
                        r[child] = _gettable_lines(kids) if child == "journalLines" else kids
            return self._collection(req, rendered, query)
        if method != "POST" or entity in READ_ONLY:
            return self._not_allowed(method)
        if not isinstance(body, dict):
            raise ODataError(400, "BadRequest", "A request body is required.")
        self.check_properties(entity, body)
        return Response(201, self.render(self.create(entity, body, parent)))

    def create(self, entity: str, body: dict, parent=None) -> dict:
        if entity == "journalLines":
            if not parent:
                raise ODataError(400, "BadRequest_MethodNotAllowed", "Create journal lines under a journal.")
            return self._put(entity, self.prepare_journal_line(parent[1], body))
        if entity == "dimensionSetLines":
            row = self.prepare_dimension_set_line(PARENT_TYPES[parent[0]], parent[1]["id"], body)
            return self._put(entity, row, key=f"{row['parentId']}:{row['id']}")
        if entity in LINES:
            header, lines = self.prepare_invoice(body, entity)
            header = self._put(entity, header)
            for line in lines:
                self.check_properties(LINES[entity], line)
                self._put(LINES[entity], self.prepare_invoice_line(header, line, LINES[entity]))
            self.refresh_invoice_totals(header, LINES[entity])
            return header
        if entity in LINES.values():
            if not parent or parent[1]["status"] != "Draft":
                raise ODataError(400, "Application_DialogException", "Lines go on a draft purchase document.")
            row = self._put(entity, self.prepare_invoice_line(parent[1], body, entity))
            self.refresh_invoice_totals(parent[1], entity)
            return row
        if entity == "journals":
            if any(j["code"] == body.get("code") for j in self.sets["journals"].values()):
                raise ODataError(400, "Internal_EntityWithSameKeyExists",
                                 f"The record already exists: Name='{body.get('code')}'.")
            return self._put(entity, {"templateDisplayName": "GENERAL", "balancingAccountId": "", **body})
        if entity == "attachments":
            self.check_attachment_parent(body)
            return self._put(entity, {"byteSize": 0, "parentType": "", **body})
        if entity == "bankAccounts" and any(b["number"] == body.get("number") for b in self.sets[entity].values()):
            raise ODataError(400, "Internal_EntityWithSameKeyExists",
                             f"The record already exists: No.='{body.get('number')}'.")
        return self._put(entity, {"blocked": False, **body})

    def _item(self, method, entity, key, query, headers, body, req, parent=None) -> Response:
        if entity == "dimensionSetLines":
            row = self.sets[entity].get(f"{parent[1]['id']}:{key}") if parent else None
        else:
            row = self.sets[entity].get(key)
            if row is not None and parent and row.get(CHILDREN[(parent[0], entity)]) != parent[1]["id"]:
                row = None
        if row is None:
            raise ODataError(404, "BadRequest_NotFound", f"The {entity} with id {key} does not exist.")
        if method == "GET":
            return Response(200, self.render(row))
        if entity in READ_ONLY:
            return self._not_allowed(method)
        self._check_etag(row, headers)
        if method == "DELETE":
            if entity in LINES and row["status"] != "Draft":
                raise ODataError(400, "Application_DialogException",
                                 "You cannot delete a posted purchase invoice; create a corrective credit memo.")
            self.delete_children(entity, row["id"])
            del self.sets[entity][f"{parent[1]['id']}:{key}" if entity == "dimensionSetLines" else key]
            if entity in LINES.values():
                parent_set = next(k for k, v in LINES.items() if v == entity)
                self.refresh_invoice_totals(self.sets[parent_set][row["documentId"]], entity)
            return Response(204)
        if method == "PATCH":
            self.check_properties(entity, dict(body or {}))
            row.update(body or {}, lastModifiedDateTime=now_ts())
            row["_v"] += 1
            return Response(200, self.render(row))
        return self._not_allowed(method)

    @staticmethod
    def _check_etag(row: dict, headers: dict) -> None:
        given = (headers or {}).get("if-match") or (headers or {}).get("If-Match")
        if not given:
            raise ODataError(400, "BadRequest_InvalidToken", "Could not validate the client concurrency token "
                             "required by the service. Please provide a valid token in the client request.")
        if given != "*" and given != etag(row["_v"]):
            raise ODataError(412, "BadRequest_InvalidToken", "Could not validate the client concurrency token "
                             "required by the service. Please provide a valid token in the client request.")

    def _collection(self, req: Request | None, rows: list[dict], query: dict) -> Response:
        rows = apply_query(rows, query)
        prefer = (req.header("prefer") if req else "") or ""
        asked = int(re.search(r"odata\.maxpagesize=(\d+)", prefer).group(1)) if "maxpagesize" in prefer else 20000
        size = min(asked, self.max_page_size)
        start = int((query.get("$skiptoken") or ["0"])[0])
        page = rows[start:start + size]
        body = {"@odata.context": "$metadata", "value": page}
        if start + size < len(rows) and req is not None:
            params = "&".join(f"{k}={v[0]}" for k, v in query.items() if k != "$skiptoken")
            body["@odata.nextLink"] = f"{req.base_url}{req.path}?{params}{'&' if params else ''}$skiptoken={start + size}"
        return Response(200, body)


def _gettable_lines(lines: list[dict]) -> list[dict]:
    """Documented: GET returns only journal lines on a G/L or bank account."""
    return [r for r in lines if r["accountType"] in ("G/L Account", "Bank Account")]


def make_server(*, host: str = "127.0.0.1", port: int = 0, snapshot: str | None = None,
                verbose: bool = False, cert_dir: str | None = None) -> TlsSandboxServer:
    cert_dir = cert_dir or (str(Path(snapshot).with_suffix("")) + "-tls" if snapshot else None)
    return TlsSandboxServer(BusinessCentralSandbox(snapshot=snapshot), host=host, port=port, verbose=verbose,
                            cert_dir=cert_dir)
