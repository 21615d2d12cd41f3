"""Validates every exchange a sandbox handles against the vendor's published OpenAPI document.

Installed as a sandbox observer: each request the sandbox accepts and each response it returns
is checked (operation exists, query parameters and headers declared, bodies match the schemas
with OpenAPI 3.0 semantics). Problems are collected, and the test fails on any.
"""

import json
from pathlib import Path

from openapi_schema_validator import OAS30ReadValidator, OAS30WriteValidator

from connectors.wafeq.sandbox import spec as wspec

SHARED_SPECS = Path("/work/shared/specs")
WAFEQ_SPEC = SHARED_SPECS / "wafeq-openapi-subset.json"


def wafeq_spec_path() -> str:
    # The shipped copy must be the shared contract byte for byte (test_openapi checks it);
    # CI machines without /work/shared validate against the copy.
    return str(WAFEQ_SPEC if WAFEQ_SPEC.exists() else wspec.SPEC_PATH)


def _schema(spec: dict, schema: dict) -> dict:
    return {**schema, "components": spec["components"]}


class OpenAPIChecker:
    def __init__(self, spec_path: str):
        self.path = spec_path
        self.spec = wspec.spec(spec_path)
        self.problems: list[str] = []
        self.checked = 0

    def __call__(self, req, resp) -> None:
        if not req.path.startswith("/v1/"):
            return
        self.checked += 1
        where = f"{req.method} {req.path} → {resp.status}"
        found = wspec.operation_for(req.method, req.path, self.path)
        if not found:
            self.problems.append(f"{where}: no such operation in the spec")
            return
        _, op = found
        params = {p["name"]: p for p in op.get("parameters", [])}
        for name, values in req.query.items():
            p = params.get(name)
            if not p or p["in"] != "query":
                self.problems.append(f"{where}: undeclared query parameter {name}")
                continue
            value = values[0]
            if p["schema"].get("type") == "integer" and not value.lstrip("-").isdigit():
                self.problems.append(f"{where}: {name}={value} is not an integer")
            if "enum" in p["schema"] and value not in p["schema"]["enum"]:
                self.problems.append(f"{where}: {name}={value} not in enum")
        if req.header("x-wafeq-idempotency-key") and "X-Wafeq-Idempotency-Key" not in params:
            self.problems.append(f"{where}: idempotency header on an operation that does not declare it")
        body_spec = op.get("requestBody", {}).get("content", {})
        if req.body and resp.status < 300:   # only what the sandbox accepted must be valid
            ctype = req.content_type
            if ctype not in body_spec:
                self.problems.append(f"{where}: request content type {ctype} not accepted")
            elif ctype == "application/json":
                for err in OAS30WriteValidator(_schema(self.spec, body_spec[ctype]["schema"])).iter_errors(json.loads(req.body)):
                    self.problems.append(f"{where}: request {list(err.absolute_path)}: {err.message[:160]}")
        declared = op.get("responses", {})
        if 200 <= resp.status < 300:
            spec_resp = declared.get(str(resp.status))
            if spec_resp is None:
                self.problems.append(f"{where}: status {resp.status} not declared (declared: {sorted(declared)})")
                return
            for header in resp.headers:
                if header.lower().startswith("x-wafeq") and header not in spec_resp.get("headers", {}):
                    self.problems.append(f"{where}: undeclared response header {header}")
            content = spec_resp.get("content", {}).get("application/json")
            if content is None:
                if resp.body not in (None, b"", ""):
                    self.problems.append(f"{where}: body on a response the spec declares empty")
                return
            for err in OAS30ReadValidator(_schema(self.spec, content["schema"])).iter_errors(resp.body):
                self.problems.append(f"{where}: response {list(err.absolute_path)}: {err.message[:160]}")
        elif resp.status == 400:
            body = resp.body
            ok = (isinstance(body, dict) and body.get("type") == "validation_error" and body.get("errors")
                  and all(set(e) == {"attr", "code", "detail"} for e in body["errors"]))
            if not ok:
                self.problems.append(f"{where}: 400 body is not a ValidationErrorResponse: {body}")
        else:
            body = resp.body
            ok = isinstance(body, dict) and body.get("type") in ("client_error", "server_error") and body.get("errors")
            if not ok:
                self.problems.append(f"{where}: error body not in the drf-standardized-errors shape: {body}")
