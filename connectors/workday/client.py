"""Workday Financial_Management over SOAP, on the shared HTTP stack.

zeep builds and parses every envelope from the shipped WSDL (parsed once per process: it is
2.5 MB), but the bytes travel through `HttpStack`, so the breaker, rate limiter, retries and call
log apply to SOAP exactly as to REST. SOAP faults are translated here, whatever HTTP status they
arrive with: Workday answers faults with HTTP 500, which must not be mistaken for a transient 5xx.
Only a `Server` faultcode (SOAP 1.1: the message was fine, the service was not) or HTTP 429 is
worth another try.

Every request is a POST, so the stack would treat a read like a write: never retried, and a lost
answer "may have booked something". `Get_*` reads change nothing, so they are retried here and a
lost answer is only a transient failure.
"""

import re
from functools import cache
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import zeep
from lxml import etree
from zeep.wsse.username import UsernameToken

from ..errors import (
    AnswerShapeError,
    AuthExpired,
    ConnectorError,
    OutcomeUnknown,
    PeriodClosed,
    Permanent,
    RateLimited,
    Transient,
)
from ..http import (
    HttpStack,
    Response,
    parse_retry_after,
)
from ..models import Connection
from .settings import WorkdaySettings

FIXTURES = Path(__file__).parent / "fixtures"
WSDL_PATH = FIXTURES / "workday-financial-management-v30.wsdl"
XSD_PATH = FIXTURES / "workday-financial-management-v30.xsd"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WD = "urn:com.workday/bsvc"
NS = {"env": SOAP_ENV, "wd": WD}
DUPLICATE_TEXT = "documents cannot be resubmitted"
# The XSD's messages for a journal dated in a ledger period that takes no postings.
CLOSED_PERIOD_TEXTS = ("ledger period status for the journal is not valid",
                       "Update the status of the ledger period")
INVALID_ID = re.compile(r"Invalid ID value\.\s+'(.*)' is not a valid ID value for type = '([^']+)'")
READ_OPERATION = re.compile(r"^Get(All)?_")


@cache
def wsdl_client() -> zeep.Client:
    return zeep.Client(str(WSDL_PATH))


def envelope(operation: str, data: dict, *, username: str = "", password: str = "") -> bytes:
    client = wsdl_client()
    node = client.create_message(client.service, operation, **data)
    if username:
        node, _ = UsernameToken(username, password).apply(node, {})
    return etree.tostring(node, xml_declaration=True, encoding="utf-8")


def parse_reply(operation: str, content: bytes):
    """The operation's response object (zeep), from a 200 answer."""
    client = wsdl_client()
    binding = client.service._binding
    shim = SimpleNamespace(status_code=200, content=content, headers={"Content-Type": "text/xml"}, encoding="utf-8")
    try:
        return binding.process_reply(client, binding.get(operation), shim)
    except (zeep.exceptions.XMLSyntaxError, zeep.exceptions.TransportError) as exc:
        # A 200 that is no SOAP envelope (a proxy's HTML page, a truncated body).
        raise AnswerShapeError(f"{operation}: the answer is not a SOAP envelope ({exc})") from exc


def parse_fault(content) -> dict | None:
    """{faultcode, faultstring, kind (Validation_Fault|Processing_Fault|""), messages, xpath}."""
    if isinstance(content, str):
        content = content.encode()
    try:
        doc = etree.fromstring(content)
    except (etree.XMLSyntaxError, ValueError, TypeError):
        return None
    fault = doc.find("env:Body/env:Fault", NS)
    if fault is None:
        return None
    detail = fault.find("detail")
    kind, messages, xpath = "", [], ""
    if detail is not None and len(detail):
        kind = etree.QName(detail[0]).localname
        errors = detail[0].findall(f"{{{WD}}}Validation_Error") or [detail[0]]
        messages = [e.findtext(f"{{{WD}}}Message") or e.findtext(f"{{{WD}}}Detail_Message") or "" for e in errors]
        xpath = next((x.text or "" for x in detail[0].iter(f"{{{WD}}}Xpath")), "")
    return {"faultcode": fault.findtext("faultcode", "").strip(), "faultstring": fault.findtext("faultstring", ""),
            "kind": kind, "messages": messages, "xpath": xpath}


def field_from_xpath(xpath: str) -> str | None:
    """`/bsvc:Submit_…[1]/bsvc:Accounting_Journal_Data[1]/bsvc:Journal_Entry_Line_Replacement_Data[2]/
    bsvc:Ledger_Account_Reference[1]` → `Journal_Entry_Line_Replacement_Data[2].Ledger_Account_Reference`."""
    steps = [s.split(":", 1)[-1] for s in xpath.strip("/").split("/") if s]
    steps = [s[:-3] if s.endswith("[1]") else s for s in steps[2:]]   # drop request root and Journal_Data
    return ".".join(steps) or None


def tenant_of(base_url: str) -> str:
    """…/ccx/service/{tenant}/Financial_Management/v30.0 → tenant."""
    parts = [p for p in urlsplit(base_url).path.split("/") if p]
    return parts[parts.index("service") + 1] if "service" in parts[:-1] else ""


class WorkdayClient(HttpStack):
    # Add_Only makes a resubmission harmless, so submits are retried; the key travels in our own
    # header only so the call log can tie attempts together (Workday ignores unknown headers).
    idempotency_header = "X-Expensico-Idempotency-Key"
    request_id_header = "X-Request-Id"

    def __init__(self, connection: Connection, **kw):
        super().__init__(connection, **kw)
        self.version = WorkdaySettings.of(connection).version

    @property
    def username(self) -> str:
        user = self.connection.client_id
        tenant = WorkdaySettings.of(self.connection).tenant or tenant_of(self.connection.base_url)
        return user if "@" in user or not tenant else f"{user}@{tenant}"

    def call(self, operation: str, data: dict, *, idempotency_key: str = ""):
        body = envelope(operation, {"version": self.version, **data}, username=self.username,
                        password=self.connection.api_key or self.connection.client_secret)
        if READ_OPERATION.match(operation) and not idempotency_key:
            resp = self.retrying(lambda: self._read(body))
        else:
            resp = self._post(body, idempotency_key)
        content = resp.body.encode() if isinstance(resp.body, str) else resp.body
        return parse_reply(operation, content)

    def _post(self, body: bytes, idempotency_key: str = "") -> Response:
        return self.request("POST", self.base_url, data=body, idempotency_key=idempotency_key, timeout=self.timeout,
                            headers={"Content-Type": "text/xml; charset=utf-8", "Accept": "text/xml"})

    def _read(self, body: bytes) -> Response:
        try:
            return self._post(body)
        except OutcomeUnknown as exc:
            raise Transient(f"a read lost its answer: {exc.message}", request_id=exc.request_id,
                            status=exc.status) from exc

    def _translate(self, status: int, body, headers, request_id: str) -> ConnectorError:
        fault = parse_fault(body) if body else None
        if fault is None:
            return super()._translate(status, body, headers, request_id)
        kw = {"request_id": request_id, "status": status}
        detail = "; ".join(fault["messages"]) or fault["faultstring"]
        code = fault["faultcode"].split(":", 1)[-1]
        if status == 429:
            return RateLimited(detail or "rate limited", retry_after=parse_retry_after(headers.get("Retry-After", "")),
                               **kw)
        if code == "Server" or code.startswith("Server."):
            return Transient(detail or f"Workday server fault (HTTP {status})", **kw)
        if code == "Client.authenticationError":
            return AuthExpired(fault["faultstring"] or "invalid username or password", **kw)
        if DUPLICATE_TEXT in detail:
            # Add_Only refused a journal id Workday already holds: an earlier submit went through.
            return Permanent(detail, code="duplicate", field="Accounting_Journal_ID", **kw)
        if any(text in detail for text in CLOSED_PERIOD_TEXTS):
            # The fault names no period; the connector knows the journal's date (and so its month).
            return PeriodClosed(detail, **kw)
        if fault["kind"] == "Processing_Fault":
            return Permanent(detail, code="processing_error", field=None, **kw)
        error = Permanent(detail, code="validation_error", field=field_from_xpath(fault["xpath"]), **kw)
        # When every error is an unknown reference id, the lookups need the ids, not the text.
        unknown = [INVALID_ID.search(m) for m in fault["messages"]]
        error.invalid_ids = [m.group(1) for m in unknown] if unknown and all(unknown) else []
        return error
