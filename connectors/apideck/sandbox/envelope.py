"""The Apideck sandbox's answer shapes: the success envelope (apideck.md A2), the error envelope
(A11) and the fault-switch answers (A12, A16.6), all written as exact JSON.

Money is held as `Decimal` from the moment a request body is read (`loads_exact`) and goes back out
digit for digit (`ExactResponse`): a float on the way would change what the client reads back.
"""

import json
from datetime import UTC, datetime
from decimal import Decimal

from ...bodies import dumps_exact
from ...sandboxing.server import Fault, Response

RESOURCE = {"ledger-accounts": "LedgerAccounts", "journal-entries": "journal-entries", "expenses": "Expenses",
            "tracking-categories": "TrackingCategories", "tax-rates": "TaxRates", "suppliers": "Suppliers",
            "company-info": "CompanyInfo"}
REASONS = {400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 422: "Unprocessable Entity",
           429: "Too Many Requests", 500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway",
           503: "Service Unavailable", 504: "Gateway Timeout"}


class ExactResponse(Response):
    def encoded(self) -> bytes:
        if self.body is None or isinstance(self.body, bytes | str):
            return super().encoded()
        return dumps_exact(self.body)


def loads_exact(raw: bytes | str):
    return json.loads(raw, parse_float=Decimal)


def now_ts() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def error(status: int, type_name: str, message: str, detail=None, downstream: list | None = None) -> Response:
    body = {"status_code": status, "error": REASONS.get(status, "Error"), "type_name": type_name, "message": message,
            "ref": f"https://developers.apideck.com/errors#{type_name.lower()}"}
    if detail is not None:
        body["detail"] = detail
    if downstream:
        body["downstream_errors"] = downstream
    return ExactResponse(status, body)


def ok(resource: str, operation: str, data, status: int = 200, **extra) -> Response:
    return ExactResponse(status, {"status_code": status, "status": "Created" if status == 201 else "OK",
                                  "service": "workday", "resource": RESOURCE[resource], "operation": operation,
                                  "data": data, **extra})


def fault_response(fault: Fault) -> Response:
    if fault.kind == "rate_limit":
        resp = error(429, "ConnectorRateLimitError", "Connector Rate Limit Error",
                     {"context": "Workday", "error": {"message": "Too many requests to the downstream API"}})
        resp.headers.update({"x-downstream-ratelimit-limit": "10", "x-downstream-ratelimit-remaining": "0",
                             "x-downstream-ratelimit-reset": "1"})
        if fault.retry_after is not None:
            resp.headers["Retry-After"] = str(fault.retry_after)
        return resp
    # Apideck proxies Workday's status through (A11), so the switch's status is the one answered.
    return error(fault.status, "ConnectorExecutionError", "A Unified API request to Workday failed",
                 f"Workday answered HTTP {fault.status}",
                 [{"message": REASONS.get(fault.status, "Error"), "detail": "", "code": str(fault.status)}])
