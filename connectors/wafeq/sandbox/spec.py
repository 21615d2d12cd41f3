"""Wafeq's OpenAPI subset, normalised for OpenAPI 3.0 validation.

The document says 3.1.1 but mixes 3.0 `nullable: true` with 3.1 `type: [X, "null"]` and numeric
`exclusiveMinimum`; the vendor notes say to validate with 3.0 semantics, so both 3.1 forms are
rewritten into their 3.0 spelling once, here. The sandbox uses it to validate request bodies (so
its 400s name the same fields Wafeq's would) and the tests to validate every exchange.
"""

import json
import re
from functools import cache
from pathlib import Path

from openapi_schema_validator import OAS30ReadValidator, OAS30WriteValidator

SPEC_PATH = Path(__file__).parent / "fixtures" / "openapi-subset.json"


def _normalise(node):
    if isinstance(node, dict):
        node = {k: _normalise(v) for k, v in node.items()}
        kind = node.get("type")
        if isinstance(kind, list):
            rest = [t for t in kind if t != "null"]
            node["type"] = rest[0] if len(rest) == 1 else rest
            if "null" in kind:
                node["nullable"] = True
        for bound, plain in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
            if isinstance(node.get(bound), (int, float)) and not isinstance(node.get(bound), bool):
                node[plain], node[bound] = node[bound], True
        if "enum" in node and node.get("nullable") and None not in node["enum"]:
            node["enum"] = [*node["enum"], None]
        return node
    if isinstance(node, list):
        return [_normalise(v) for v in node]
    return node


@cache
def spec(path: str | None = None) -> dict:
    return _normalise(json.loads(Path(path or SPEC_PATH).read_text()))


def schema_ref(name: str, path: str | None = None) -> dict:
    return {"$ref": f"#/components/schemas/{name}", "components": spec(path)["components"]}


@cache
def write_validator(name: str):
    return OAS30WriteValidator(schema_ref(name))


@cache
def read_validator(name: str):
    return OAS30ReadValidator(schema_ref(name))


@cache
def _templates(path: str | None = None):
    out = []
    for template in spec(path)["paths"]:
        pattern = "^/v1" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
        out.append((re.compile(pattern), template))
    return out


def operation_for(method: str, url_path: str, path: str | None = None) -> tuple[str, dict] | None:
    """The (template, operation) a request path and method correspond to, if the spec has it."""
    for pattern, template in _templates(path):
        if pattern.match(url_path):
            op = spec(path)["paths"][template].get(method.lower())
            return (template, op) if op else None
    return None


def writable_required(name: str) -> list[str]:
    schema = spec()["components"]["schemas"][name]
    return [f for f in schema.get("required", []) if not schema["properties"].get(f, {}).get("readOnly")]


def enum_values(name: str) -> list[str]:
    return [v for v in spec()["components"]["schemas"][name]["enum"] if v is not None]
