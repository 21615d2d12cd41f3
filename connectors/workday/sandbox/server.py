"""A Workday Financial_Management SOAP sandbox (../shared/vendor-apis/workday-soap.md, B9).

`POST /ccx/service/{tenant}/Financial_Management/v30.0` takes SOAP 1.1 envelopes; `GET …?wsdl`
serves the shipped WSDL. Every request body is validated against the shipped v30 XSD before it is
looked at, and every answer is rendered from the same schema by zeep, so element order, namespaces
and types are Workday's. WS-Security UsernameToken `user@tenant` is checked on every call.

Choices where the contract says [?] (README: pick one, make it configurable, say so):
- Every fault answers HTTP 500, as SOAP 1.1 prescribes and the authentication fault is documented
  to (one public mock answers validation faults with 400: `validation_status = 400`).
- An unknown reference id in a request is a Validation_Fault listing every unknown id (one
  Validation_Error each); v30 has no Skip_Non_Existing_Instances.
- The Add_Only duplicate is a `Validation_Fault` with the XSD's own message text.
- `Put_Account_Set` without Add_Only merges the ledger accounts it sends into the set.
- Status: `Submit=false` → Draft; `Submit=true` → Posted with `Auto_Complete`, else Submitted.
  Cancel works on anything not posted; a posted journal is undone by a reversal journal.
- The fault switches answer with a SOAP 1.1 fault whose faultcode is `SOAP-ENV:Server` (the
  message was fine, the service was not): HTTP 429 (+ Retry-After) when throttled, the switch's
  5xx otherwise. Workday documents no throttling (B8), so the 429 is this sandbox's choice.
- Closed periods: `POST /__sandbox__/settings {"closed_through": "YYYY-MM-DD"}` (null reopens; the
  tenant's "Update Ledger Period Status" task, which no web service offers) closes every ledger
  period up to that date. A journal dated there is a Validation_Fault with the XSD's own message
  `CLOSED_PERIOD`, its Xpath on `Accounting_Date`. Ledger periods are calendar months here.
- A line in another currency than the company's (its `Currency_Reference`) carries `Currency_Rate`
  and `Ledger_Debit/Credit_Amount`, which must agree with amount × rate to one unit of the company currency; the journal
  balances on the ledger amounts, and `Get_Journals` answers all four.
- `Get_Journals` criteria honour `Organization_Reference` (Company_Reference_ID), the accounting
  dates, `Journal_Number` and `Status_Reference`; `Count` is capped at 999 as the XSD says.
- `POST /__sandbox__/settings {"journal_exceptions": [{"classification": "Warning", "message": …}]}`
  makes every accepted Submit_Accounting_Journal answer carry them in `Exceptions_Response_Data`
  (B4) until cleared.
- `Attachment_Data` on a journal (receipts) is validated and held (sandbox/attachments.py) and
  answered by `Get_Journals` only when `Response_Group/Include_Attachment_Data` is true.
"""

import json
import threading
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from lxml import etree
from zeep import exceptions as zeep_errors

from ...periods import closed_through, is_closed
from ...sandboxing.server import Request, Response, SandboxApp, SandboxServer
from ..client import NS, SOAP_ENV, WD, WSDL_PATH, wsdl_client
from . import attachments
from .journals import JournalReadsMixin
from .reference import ReferenceDataMixin
from .soap import Fault, id_of, ids, new_wid, ref, xpath_of, xsd  # noqa: F401  (xsd: tests)

SEED = Path(__file__).parent / "fixtures" / "seed.json"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
ADD_ONLY_DUPLICATE = "The Web Service is set to Add Only; documents cannot be resubmitted."
CLOSED_PERIOD = "The ledger period status for the journal is not valid."
MAX_LINES = 1000


class WorkdaySandbox(JournalReadsMixin, ReferenceDataMixin, SandboxApp):
    name = "workday"
    validation_status = 500

    def __init__(self, *, seed_path: Path = SEED, snapshot: str | None = None):
        super().__init__()
        self.seed_path, self.snapshot = seed_path, snapshot
        self.lock = threading.RLock()
        self.reset()
        if snapshot and Path(snapshot).exists():
            self.load(snapshot)

    # State ------------------------------------------------------------------------------
    def reset(self) -> None:
        with self.lock:
            seed = json.loads(self.seed_path.read_text())
            self.seed = seed
            self.tenant = seed["tenant"]
            self.users = dict(seed["users"])
            self.account_sets = {s["id"]: {"name": s["name"], "chart": s["chart"],
                                           "accounts": {a["id"]: {"retired": False, **a} for a in s["accounts"]}}
                                 for s in seed["account_sets"]}
            self.journals: dict[str, dict] = {}      # WID → journal
            self.sequence = 0
            self.journal_exceptions: list[dict] = []
            self.closed_through = None

    def save(self, path: str | None = None) -> None:
        with self.lock:
            Path(path or self.snapshot).write_text(json.dumps(
                {"journals": self.journals, "account_sets": self.account_sets, "sequence": self.sequence,
                 "users": self.users, "closed_through": self.closed_through}, default=str))

    def load(self, path: str) -> None:
        data = json.loads(Path(path).read_text())
        with self.lock:
            self.journals, self.account_sets = data["journals"], data["account_sets"]
            self.sequence, self.users = data["sequence"], data["users"]
            self.closed_through = closed_through(data.get("closed_through"))

    def ledger(self) -> dict:
        with self.lock:
            return {"journals": [dict(j) for j in self.journals.values()],
                    "account_sets": {k: list(v["accounts"].values()) for k, v in self.account_sets.items()}}

    def documents(self) -> list[dict]:
        with self.lock:
            return [dict(j) for j in self.journals.values()]

    # Done in the tenant's UI (no web service does it): the testkit's tamper hooks use these.
    def remove_journal(self, wid: str) -> None:
        with self.lock:
            del self.journals[wid]

    def edit_journal_amount(self, wid: str, amount) -> None:
        """The first debit line and the first credit line become `amount` together (balanced)."""
        with self.lock:
            journal = self.journals[wid]
            debit = next(line for line in journal["lines"] if Decimal(line["debit"]))
            credit = next(line for line in journal["lines"] if Decimal(line["credit"]))
            total = Decimal(journal["total_debits"]) - Decimal(debit["debit"]) + amount
            debit["debit"], credit["credit"] = str(amount), str(amount)
            journal.update(total_debits=str(total), total_credits=str(total),
                           last_updated=datetime.now(UTC).isoformat())

    def revoke_all_credentials(self) -> None:
        with self.lock:
            self.users.clear()

    def banner(self, base_url: str) -> list[str]:
        user, password = next(iter(json.loads(self.seed_path.read_text())["users"].items()))
        return [f"Workday SOAP sandbox: {base_url}{self.endpoint_path}", f"  wsdl: {base_url}{self.endpoint_path}?wsdl",
                f"  username: {user}", f"  password: {password}",
                f"  company: {self.seed['companies'][0]['id']}  account set: Standard",
                f"  control: {base_url}/__sandbox__/"]

    @property
    def endpoint_path(self) -> str:
        return f"/ccx/service/{self.tenant}/Financial_Management/v30.0"

    # Switches ---------------------------------------------------------------------------
    def control(self, req: Request) -> Response:
        if req.method == "POST" and req.path.rstrip("/").endswith("/settings"):
            if "closed_through" in (req.json() or {}):
                try:
                    through = closed_through(req.json()["closed_through"])
                except ValueError as exc:
                    return Response(400, {"detail": str(exc)})
                with self.lock:
                    self.closed_through = through
            wanted = (req.json() or {}).get("journal_exceptions")
            if wanted is not None:
                if not isinstance(wanted, list) or not all(isinstance(e, dict) and e.get("message") for e in wanted):
                    return Response(400, {"detail": "journal_exceptions is a list of {classification, message}"})
                with self.lock:
                    self.journal_exceptions = [{"Classification": str(e.get("classification", "Warning")),
                                                "Message": str(e["message"])} for e in wanted]
        return super().control(req)

    def clear_faults(self) -> None:
        super().clear_faults()
        with self.lock:
            self.journal_exceptions = []

    def rate_limited_response(self, retry_after: str | None) -> Response:
        return self._server_fault(429, "Too many requests for this tenant's web services; retry later.", retry_after)

    def server_error_response(self, status: int, retry_after: str | None) -> Response:
        return self._server_fault(status, "The Workday web service is temporarily unavailable.", retry_after)

    def _server_fault(self, status: int, message: str, retry_after: str | None) -> Response:
        resp = self._fault(Fault("server", message), status)
        if retry_after is not None:
            resp.headers["Retry-After"] = str(retry_after)
        return resp

    # Transport --------------------------------------------------------------------------
    def handle(self, req: Request) -> Response:
        if req.path.rstrip("/") != self.endpoint_path:
            return Response(404, "Not Found", content_type="text/plain")
        if req.method == "GET" and "wsdl" in req.query:
            return Response(200, WSDL_PATH.read_bytes(), content_type="text/xml; charset=utf-8")
        if req.method != "POST":
            return Response(405, "Method Not Allowed", content_type="text/plain")
        try:
            doc = etree.fromstring(req.body)
        except etree.XMLSyntaxError as exc:
            return self._fault(Fault("client", f"Invalid request XML: {exc}"), 500)
        body = doc.find("env:Body", NS)
        if body is None or not len(body):
            return self._fault(Fault("client", "The request has no SOAP body."), 500)
        if not self._authenticated(doc):
            return self._fault(Fault("auth", "invalid username or password"), 500)
        request = body[0]
        try:
            problems = self._schema_errors(request)
            if problems:
                raise Fault("Validation_Fault", problems[0][0], problems[0][1])
            operation = etree.QName(request).localname.removesuffix("_Request")
            handler = getattr(self, "op_" + operation.replace("-", "_"), None)
            if handler is None:
                raise Fault("Processing_Fault", f"Operation {operation} is not available in this sandbox.")
            with self.lock:
                element, data = handler(request)
            return Response(200, self._envelope(element, data), content_type="text/xml; charset=utf-8")
        except (etree.LxmlError, zeep_errors.Error, ValueError, TypeError, KeyError) as exc:
            # A sandbox bug must show as a fault with its cause, not as a dropped connection.
            return self._fault(Fault("Processing_Fault", f"sandbox error: {type(exc).__name__}: {exc}"), 500)
        except Fault as fault:
            status = fault.status or (self.validation_status if fault.kind == "Validation_Fault" else 500)
            return self._fault(fault, status)

    def _authenticated(self, doc) -> bool:
        token = doc.find(f"env:Header/{{{WSSE}}}Security/{{{WSSE}}}UsernameToken", NS)
        if token is None:
            return False
        user = token.findtext(f"{{{WSSE}}}Username", "")
        password = token.findtext(f"{{{WSSE}}}Password", "")
        with self.lock:
            return user.endswith("@" + self.tenant) and self.users.get(user) == password

    @staticmethod
    def _schema_errors(request) -> list[tuple[str, str]]:
        tree = etree.ElementTree(etree.fromstring(etree.tostring(request)))
        if xsd().validate(tree):
            return []
        return [(f"Validation error occurred. {e.message}", e.path) for e in xsd().error_log]

    @staticmethod
    def _envelope(element: str, data: dict) -> bytes:
        client = wsdl_client()
        el = client.get_element(f"{{{WD}}}{element}")
        env = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"env": SOAP_ENV, "wd": WD})
        body = etree.SubElement(env, f"{{{SOAP_ENV}}}Body")
        el.render(body, el(**data))
        return etree.tostring(env, xml_declaration=True, encoding="utf-8")

    @staticmethod
    def _fault(fault: Fault, status: int) -> Response:
        env = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap={"SOAP-ENV": SOAP_ENV})
        node = etree.SubElement(etree.SubElement(env, f"{{{SOAP_ENV}}}Body"), f"{{{SOAP_ENV}}}Fault",
                                nsmap={"wd": WD})
        codes = {"auth": "SOAP-ENV:Client.authenticationError", "Validation_Fault": "SOAP-ENV:Client.validationError",
                 "Processing_Fault": "SOAP-ENV:Client.processingError", "client": "SOAP-ENV:Client",
                 "server": "SOAP-ENV:Server"}
        etree.SubElement(node, "faultcode").text = codes[fault.kind]
        prefix = "Validation error occurred. " if fault.kind == "Validation_Fault" else ""
        etree.SubElement(node, "faultstring").text = (
            fault.message if fault.message.startswith(prefix) else prefix + fault.message)
        if fault.kind in ("Validation_Fault", "Processing_Fault"):
            detail = etree.SubElement(etree.SubElement(node, "detail"), f"{{{WD}}}{fault.kind}")
            if fault.kind == "Processing_Fault":
                etree.SubElement(detail, f"{{{WD}}}Detail_Message").text = fault.message
            for message, xpath in (fault.errors if fault.kind == "Validation_Fault" else ()):
                holder = etree.SubElement(detail, f"{{{WD}}}Validation_Error")
                etree.SubElement(holder, f"{{{WD}}}Message").text = message
                etree.SubElement(holder, f"{{{WD}}}Detail_Message").text = message
                if xpath:
                    etree.SubElement(holder, f"{{{WD}}}Xpath").text = xpath
        return Response(status, etree.tostring(env, xml_declaration=True, encoding="utf-8"),
                        content_type="text/xml; charset=utf-8")

    # Journals ---------------------------------------------------------------------------
    def op_Submit_Accounting_Journal(self, request):
        data = request.find("wd:Accounting_Journal_Data", NS)
        journal_id = data.findtext("wd:Accounting_Journal_ID", None, NS)
        add_only = request.get(f"{{{WD}}}Add_Only") in ("true", "1")
        existing = next((j for j in self.journals.values() if journal_id and j["journal_id"] == journal_id), None)
        if existing and add_only:
            raise Fault("Validation_Fault", ADD_ONLY_DUPLICATE, xpath_of(request))
        if existing and existing["status"] in ("Posted", "Canceled"):
            raise Fault("Validation_Fault", "The Accounting Journal is posted or canceled or is an intercompany or "
                        "reversal journal and cannot be submitted.", xpath_of(request))
        journal = self._validated_journal(data)
        if is_closed(journal["accounting_date"], self.closed_through):
            raise Fault("Validation_Fault", CLOSED_PERIOD, xpath_of(data.find("wd:Accounting_Date", NS)))
        auto = request.findtext("wd:Business_Process_Parameters/wd:Auto_Complete", "false", NS) in ("true", "1")
        submit = data.findtext("wd:Submit", "false", NS) in ("true", "1")
        journal["status"] = ("Posted" if auto else "Submitted") if submit else "Draft"
        now = datetime.now(UTC).isoformat()
        if existing:
            existing.update(journal, last_updated=now)
            journal = existing
        else:
            self.sequence += 1
            journal.update(wid=new_wid(), journal_number=f"JE-{self.sequence:06d}", created=now, last_updated=now,
                           reversed_by=None, reverses=None)
            self.journals[journal["wid"]] = journal
        out = {"version": "v30.0", "Accounting_Journal_Reference": self._journal_ref(journal)}
        if self.journal_exceptions:
            out["Exceptions_Response_Data"] = [{"Exceptions_Data": [{"Exception_Data": self.journal_exceptions}]}]
        return "Submit_Accounting_Journal_Response", out

    def _journal_ref(self, journal: dict) -> dict:
        ref_ids = [{"_value_1": journal["wid"], "type": "WID"}]
        if journal["journal_id"]:
            ref_ids.append({"_value_1": journal["journal_id"], "type": "Accounting_Journal_ID"})
        return {"ID": ref_ids, "Descriptor": f"Journal: {journal['journal_number']}"}

    def _validated_journal(self, data) -> dict:
        seed = self.seed
        company_id = id_of(data.find("wd:Company_Reference", NS), "Company_Reference_ID")
        company = next((c for c in seed["companies"] if c["id"] == company_id), None)
        if company is None:
            raise self._invalid_id(data.find("wd:Company_Reference", NS), "Company_Reference_ID")
        currency = id_of(data.find("wd:Currency_Reference", NS), "Currency_ID")
        if currency != company["currency"]:
            raise Fault("Validation_Fault", "If the currency is specified, it must match the default currency for "
                        "the company.", xpath_of(data.find("wd:Currency_Reference", NS)))
        if id_of(data.find("wd:Ledger_Type_Reference", NS), "Ledger_Type_ID") not in seed["ledger_types"]:
            raise self._invalid_id(data.find("wd:Ledger_Type_Reference", NS), "Ledger_Type_ID")
        source_el = data.find("wd:Journal_Source_Reference", NS)
        source = next((s for s in seed["journal_sources"] if s["id"] == id_of(source_el, "Journal_Source_ID")), None)
        if source is None:
            raise self._invalid_id(source_el, "Journal_Source_ID")
        if not source["accounting"]:
            raise Fault("Validation_Fault", "Journal Source must be an Accounting Journal Source.", xpath_of(source_el))
        self._company_currency = company["currency"]
        line_els = data.findall("wd:Journal_Entry_Line_Replacement_Data", NS)
        if not line_els:
            raise Fault("Validation_Fault", "Please enter at least one Journal Details line.", xpath_of(data))
        if len(line_els) > MAX_LINES:
            raise Fault("Validation_Fault", "The Submit Accounting Journal WS does not accept journals with more "
                        f"than {MAX_LINES} journal lines.", xpath_of(data))
        lines = [self._validated_line(el) for el in line_els]
        debits = sum((Decimal(line["debit"]) for line in lines), Decimal(0))
        credits = sum((Decimal(line["credit"]) for line in lines), Decimal(0))
        if debits != credits:
            raise Fault("Validation_Fault", "Journal may not be submitted unless it is balanced", xpath_of(data))
        return {"journal_id": data.findtext("wd:Accounting_Journal_ID", "", NS), "company": company_id,
                "currency": currency, "ledger_type": id_of(data.find("wd:Ledger_Type_Reference", NS), "Ledger_Type_ID"),
                "accounting_date": data.findtext("wd:Accounting_Date", "", NS)[:10], "journal_source": source["id"],
                "memo": data.findtext("wd:Journal_Entry_Memo", "", NS),
                "external_reference": data.findtext("wd:External_Reference_ID", "", NS),
                "lines": lines, "total_debits": str(debits), "total_credits": str(credits),
                "attachments": attachments.validated(data)}

    def _invalid_id(self, ref_el, id_type: str, value: str | None = None) -> Fault:
        value = value if value is not None else (ids(ref_el)[0]["value"] if ids(ref_el) else "")
        return Fault("Validation_Fault", f"Invalid ID value.  '{value}' is not a valid ID value for type = "
                     f"'{id_type}'", xpath_of(ref_el))

    def _validated_line(self, el) -> dict:
        ref_el = el.find("wd:Ledger_Account_Reference", NS)
        account_ref = next((i for i in ids(ref_el) if i["type"] == "Ledger_Account_ID"), None)
        if account_ref is None or account_ref["parent_type"] != "Account_Set_ID":
            raise Fault("Validation_Fault", "Ledger Account Reference must be a 2 part reference ID: Ledger_Account_ID "
                        "with parent Account_Set_ID.", xpath_of(ref_el))
        account_set = self.account_sets.get(account_ref["parent_id"] or "")
        account = account_set["accounts"].get(account_ref["value"]) if account_set else None
        if account is None:
            raise self._invalid_id(ref_el, "Ledger_Account_ID", account_ref["value"])
        if account.get("retired"):
            raise Fault("Validation_Fault", "At least one of the Ledger Accounts entered is retired. Only non retired "
                        "accounts are allowed.", xpath_of(ref_el))
        debit, credit = (self._amount(el, name) for name in ("Debit_Amount", "Credit_Amount"))
        foreign = self._foreign(el, debit, credit)
        if foreign:
            debit, credit = (self._amount(el, name) for name in ("Ledger_Debit_Amount", "Ledger_Credit_Amount"))
        if debit and credit:
            raise Fault("Validation_Fault", "The Credit and Debit Amount both have values.", xpath_of(el))
        if not debit and not credit:
            raise Fault("Validation_Fault", "The Credit and Debit Amounts are both zero.", xpath_of(el))
        worktags: dict[str, str] = {}
        for tag_el in el.findall("wd:Worktags_Reference", NS):
            for item in ids(tag_el):
                if item["type"] in worktags:
                    raise Fault("Validation_Fault", "Only one worktag for each type is allowed for each document line.",
                                xpath_of(tag_el))
                if not self._worktag_exists(item["type"], item["value"]):
                    raise self._invalid_id(tag_el, item["type"], item["value"])
                worktags[item["type"]] = item["value"]
        missing = [t for t in self.seed["required_worktags"].get(account["type"], []) if t not in worktags]
        if missing:
            raise Fault("Validation_Fault", f"The following worktag type(s) are required: {', '.join(missing)}",
                        xpath_of(el))
        return {"account_set": account_ref["parent_id"], "account": account_ref["value"],
                "debit": str(debit), "credit": str(credit), "memo": el.findtext("wd:Memo", "", NS),
                "external_reference": el.findtext("wd:External_Reference_ID", "", NS), "worktags": worktags,
                **foreign}

    def _foreign(self, el, debit: Decimal, credit: Decimal) -> dict:
        """A line in another currency than the company's: its currency, rate and amount (the
        transaction side), {} otherwise. The journal balances on the ledger amounts, which must be
        given and agree with amount × rate to one minor unit of the company's currency."""
        currency = id_of(el.find("wd:Currency_Reference", NS), "Currency_ID")
        company = self._company_currency
        if not currency or currency == company:
            return {}
        rate = self._amount(el, "Currency_Rate")
        if not rate:
            raise Fault("Validation_Fault", "A currency rate is required for a line in a currency other than the "
                        "company's.", xpath_of(el))
        if not any(c["id"] == currency for c in self.seed["currencies"]):
            raise self._invalid_id(el.find("wd:Currency_Reference", NS), "Currency_ID")
        ledger = self._amount(el, "Ledger_Debit_Amount") or self._amount(el, "Ledger_Credit_Amount")
        unit = Decimal(1).scaleb(-next((c["precision"] for c in self.seed["currencies"] if c["id"] == company), 2))
        # The rate holds six decimals: a longer one, rounded, moves a large amount by more than a unit.
        if abs(ledger - (debit or credit) * rate) > unit + (debit or credit) * Decimal("0.0000005"):
            raise Fault("Validation_Fault", "The ledger amount does not match the amount at the currency rate.",
                        xpath_of(el))
        return {"currency": currency, "rate": str(rate), "amount": str(debit or credit)}

    @staticmethod
    def _amount(el, name: str) -> Decimal:
        try:
            return Decimal(el.findtext(f"wd:{name}", "0", NS) or "0")
        except InvalidOperation:
            raise Fault("Validation_Fault", f"{name} is not a decimal.", xpath_of(el)) from None

    def _worktag_exists(self, id_type: str, value: str) -> bool:
        pools = {"Cost_Center_Reference_ID": "cost_centers", "Spend_Category_ID": "spend_categories",
                 "Project_ID": "projects", "Region_Reference_ID": "regions", "Supplier_ID": "suppliers"}
        pool = pools.get(id_type)
        return bool(pool) and any(row["id"] == value for row in self.seed[pool])

    def op_Cancel_Accounting_Journal(self, request):
        ref_el = request.find("wd:Accounting_Journal_Reference", NS)
        journal = self._find_journal(ref_el)
        if journal is None:
            raise self._invalid_id(ref_el, "WID")
        if journal["status"] == "Posted":
            raise Fault("Validation_Fault", "Cancel of a posted journal is not available for this journal. You must "
                        "instead reverse the journal.", xpath_of(ref_el))
        if journal["status"] == "Canceled":
            raise Fault("Validation_Fault", "The Accounting Journal cannot be Canceled.", xpath_of(ref_el))
        journal.update(status="Canceled", last_updated=datetime.now(UTC).isoformat())
        return "Cancel_Accounting_Journal_Response", {"version": "v30.0",
                                                      "Accounting_Journal_Reference": self._journal_ref(journal)}

    def op_Unpost_Reverse_Accounting_Journal(self, request):
        """A tenant with "Always Reverse Accounting Journals" (WSDL: from v29 the journal is reversed,
        not unposted): a posted reversal journal in the original's period, the two linked by
        Cancel_Reverses_/Cancel_Reversed_By_Journal_Entry_Reference."""
        ref_el = request.find("wd:Accounting_Journal_Reference", NS)
        journal = self._find_journal(ref_el)
        if journal is None:
            raise self._invalid_id(ref_el, "WID")
        if journal["status"] != "Posted" or journal.get("reversed_by") or journal.get("reverses"):
            raise Fault("Validation_Fault", "The Accounting Journal cannot be Unposted or Reversed.", xpath_of(ref_el))
        if is_closed(journal["accounting_date"], self.closed_through):
            raise Fault("Validation_Fault", CLOSED_PERIOD, xpath_of(ref_el))
        now = datetime.now(UTC).isoformat()
        self.sequence += 1
        lines = [{**line, "debit": line["credit"], "credit": line["debit"]} for line in journal["lines"]]
        reversal = {**journal, "wid": new_wid(), "journal_id": "", "external_reference": "",
                    "journal_number": f"JE-{self.sequence:06d}", "memo": f"Reversal of {journal['journal_number']}",
                    "lines": lines, "attachments": [], "created": now, "last_updated": now, "reversed_by": None,
                    "reverses": journal["wid"]}
        self.journals[reversal["wid"]] = reversal
        journal.update(reversed_by=reversal["wid"], last_updated=now)
        return "Cancel_Accounting_Journal_Response", {"version": "v30.0",
                                                      "Accounting_Journal_Reference": self._journal_ref(journal)}


def make_server(*, host: str = "127.0.0.1", port: int = 0, snapshot: str | None = None,
                verbose: bool = False) -> SandboxServer:
    return SandboxServer(WorkdaySandbox(snapshot=snapshot), host=host, port=port, verbose=verbose)
