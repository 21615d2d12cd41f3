"""Apideck's Accounting OpenAPI document (10.34.0, shipped whole: 1.3 MB) and the checks built on it.

The sandbox runs every request and every answer through `check_request` / `check_response`, so a
field, header, filter key or status the document does not declare is caught where it happens.
OpenAPI 3.0 semantics (`nullable`, readOnly on write), via openapi-schema-validator.
"""

import json
import re
from functools import cache
from pathlib import Path

import yaml
from openapi_schema_validator import OAS30ReadValidator, OAS30WriteValidator

SPEC_PATH = Path(__file__).parent / "fixtures" / "apideck-accounting.yml"
FILTER_RE = re.compile(r"^(filter|sort|pass_through)\[([^\]]+)\]$")


@cache
def spec(path: str | None = None) -> dict:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(Path(path or SPEC_PATH).read_text(), Loader=loader)


def _resolve(node: dict) -> dict:
    while isinstance(node, dict) and "$ref" in node:
        name = node["$ref"].split("/")
        node = spec()[name[1]][name[2]][name[3]]
    return node


def schema_of(node: dict) -> dict:
    return {**node, "components": spec()["components"]}


@cache
def _templates():
    out = []
    for template in spec()["paths"]:
        out.append((re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"), template))
    return out


def operation_for(method: str, path: str) -> tuple[str, dict] | None:
    for pattern, template in _templates():
        if pattern.match(path):
            op = spec()["paths"][template].get(method.lower())
            return (template, op) if op else None
    return None


def parameters(op: dict) -> dict[tuple[str, str], dict]:
    return {(p["in"], p["name"].lower()): p for p in (_resolve(p) for p in op.get("parameters", []))}


@cache
def _validator(kind: str, schema_json: str):
    cls = OAS30WriteValidator if kind == "write" else OAS30ReadValidator
    return cls(schema_of(json.loads(schema_json)))


def validate(schema: dict, instance, *, kind: str) -> list[str]:
    validator = _validator(kind, json.dumps(schema, sort_keys=True))
    return [f"{'.'.join(str(p) for p in e.absolute_path) or '<body>'}: {e.message[:200]}"
            for e in validator.iter_errors(instance)]


def check_request(method: str, path: str, query: dict[str, list[str]], headers: dict[str, str],
                  body) -> tuple[int, str, list[str]]:
    """(status, type_name, problems) for a request the spec would refuse; (0, "", []) when fine."""
    found = operation_for(method, path)
    if not found:
        return 404, "NotFoundError", [f"{method} {path} is not an operation of the Accounting API"]
    _, op = found
    params = parameters(op)
    missing = [p["name"] for (where, _), p in params.items() if where == "header" and p.get("required")
               and not headers.get(p["name"].lower())]
    if missing:
        return 400, "RequestHeadersValidationError", [f"Missing Header: {missing[0]}"]
    problems, unsupported = [], []
    deep: dict[str, dict] = {}
    for name, values in query.items():
        match = FILTER_RE.match(name)
        if match:
            deep.setdefault(match.group(1), {})[match.group(2)] = values[0]
            continue
        p = params.get(("query", name.lower()))
        if p is None:
            problems.append(f"undeclared query parameter {name}")
            continue
        value = _coerce(values[0], p["schema"])
        problems += [f"{name}: {e}" for e in validate(p["schema"], value, kind="read")]
    for group, values in deep.items():
        p = params.get(("query", group))
        if p is None:
            problems.append(f"undeclared query parameter {group}")
            continue
        schema = _resolve(p["schema"])
        props = schema.get("properties", {})
        for key in values:
            if key not in props and group != "pass_through":
                unsupported.append(key)
    if unsupported:
        return 400, "UnsupportedFiltersError", [f"Unsupported filters: {', '.join(unsupported)}"]
    if problems:
        return 400, "RequestValidationError", problems
    request_body = op.get("requestBody")
    if request_body:
        if body is None:
            return 400, "RequestValidationError", ["Missing request body"]
        schema = request_body["content"]["application/json"]["schema"]
        problems = validate(schema, body, kind="write")
        if problems:
            return 400, "RequestValidationError", problems
    return 0, "", []


def _coerce(value: str, schema: dict):
    kind = _resolve(schema).get("type")
    if kind == "integer" and value.lstrip("-").isdigit():
        return int(value)
    if kind == "boolean" and value in ("true", "false"):
        return value == "true"
    return value


def check_response(method: str, path: str, status: int, body) -> list[str]:
    found = operation_for(method, path)
    if not found:
        return []
    responses = found[1].get("responses", {})
    declared = responses.get(str(status)) or responses.get("default")
    if declared is None:
        return [f"status {status} is not declared"]
    declared = _resolve(declared)
    content = declared.get("content", {}).get("application/json")
    if content is None:
        return [] if body in (None, "", b"") else ["body on a response declared empty"]
    return validate(content["schema"], body, kind="read")
