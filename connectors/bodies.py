"""Request and response bodies: JSON with exact decimals both ways, and the redacted, truncated
copy the call log keeps."""

import json
import re
from decimal import Decimal
from typing import Any

import requests

BODY_LIMIT = 2000
_SECRET_KEYS = re.compile(r"(token|secret|password|api[_-]?key|authorization|code_verifier|^code$)", re.I)
_DEC = "\u0000dec:"


def dumps_exact(payload: Any) -> bytes:
    """JSON with Decimal written as a JSON number digit for digit: money never passes through
    float on its way to the vendor."""
    def mark(obj: Any) -> Any:
        if isinstance(obj, Decimal):
            return _DEC + format(obj, "f")
        if isinstance(obj, dict):
            return {k: mark(v) for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            return [mark(v) for v in obj]
        return obj

    text = json.dumps(mark(payload), ensure_ascii=False)
    return re.sub(r'"\\u0000dec:(-?[0-9.]+)"', r"\1", text).encode()


def parse_body(raw: requests.Response) -> Any:
    if raw.status_code == 204 or not raw.content:
        return None
    try:
        # Vendors send money as JSON numbers: read them as Decimal, never through float.
        return json.loads(raw.content, parse_float=Decimal)
    except ValueError:
        return raw.text


def redact(value: Any, limit: int = BODY_LIMIT) -> str:
    """JSON-ish bodies with secret-looking keys masked, truncated for the call log."""
    def scrub(obj: Any) -> Any:
        if isinstance(obj, dict):
            return {k: ("***" if _SECRET_KEYS.search(str(k)) else scrub(v)) for k, v in obj.items()}
        if isinstance(obj, list):
            return [scrub(v) for v in obj]
        return obj

    if value is None or value == b"" or value == "":
        return ""
    if isinstance(value, bytes):
        try:
            value = json.loads(value)
        except ValueError:
            return f"<{len(value)} bytes>"
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return str(value[:limit])
    text = json.dumps(scrub(value), ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"
