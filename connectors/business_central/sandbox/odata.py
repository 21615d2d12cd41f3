"""What the Business Central sandbox needs from OData v4 and from TLS, kept apart from its routes:
`$filter` (eq/ne/gt/lt/ge/le joined by `and`), `$select`, `$top`, ETags, the error body, and a
self-signed HTTPS server (msal only talks to https authorities, as Entra ID does)."""

import datetime as dt
import ipaddress
import re
import ssl
import tempfile
import uuid
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ...sandboxing.server import Response, SandboxServer

_CLAUSE = re.compile(r"^\s*(\w+)\s+(eq|ne|gt|lt|ge|le)\s+('(?:[^']|'')*'|[\w.:+-]+)\s*$", re.I)


class ODataError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def response(self) -> Response:
        return error(self.status, self.code, self.message)


def error(status: int, code: str, message: str) -> Response:
    correlation = uuid.uuid4()
    return Response(status, {"error": {"code": code, "message": f"{message}  CorrelationId:  {correlation}."}},
                    {"request-id": str(correlation)})


# What the sandbox's fault switches answer. The contract lists the statuses (A9) but no codes for
# 408/429/5xx; `Unknown` is BC's catch-all code, `Request_EntityChanged` the documented 409.
FAULT_ANSWERS = {
    408: ("Unknown", "The operation has timed out. The session was cancelled."),
    409: ("Request_EntityChanged", "Another user has already changed the record."),
    429: ("Unknown", "Too many requests. The request limit for this user has been reached."),
    502: ("Unknown", "The service is temporarily unavailable. Try again later."),
    503: ("Unknown", "The service is temporarily unavailable. Try again later."),
    504: ("Unknown", "The request took longer than 10 minutes and was stopped."),
}


def fault(status: int, retry_after: str | None = None) -> Response:
    """A fault in OData's error shape, with `Retry-After` when the switch carries one."""
    code, message = FAULT_ANSWERS.get(status, ("Unknown", "An unexpected error has occurred."))
    resp = error(status, code, message)
    if retry_after is not None:
        resp.headers["Retry-After"] = str(retry_after)
    return resp


def _literal(token: str):
    if token.startswith("'"):
        return token[1:-1].replace("''", "'")
    if token.lower() in ("true", "false"):
        return token.lower() == "true"
    if token.lower() == "null":
        return None
    try:
        return float(token) if "." in token and not re.match(r"^\d{4}-", token) else int(token)
    except ValueError:
        return token          # GUIDs and dates travel unquoted


def parse_filter(text: str) -> list[tuple[str, str, object]]:
    clauses = []
    for part in re.split(r"\s+and\s+", text.strip(), flags=re.I):
        match = _CLAUSE.match(part)
        if not match:
            raise ODataError(400, "BadRequest", f"Invalid filter expression: '{part}'.")
        clauses.append((match.group(1), match.group(2).lower(), _literal(match.group(3))))
    return clauses


def _compare(value, op: str, target) -> bool:
    if isinstance(target, (int, float)) and not isinstance(target, bool) and value is not None:
        value = float(value)
    elif isinstance(value, str) and isinstance(target, str):
        value, target = value.lower(), target.lower()     # BC compares Code fields case-insensitively
    return {"eq": value == target, "ne": value != target, "gt": value is not None and value > target,
            "lt": value is not None and value < target, "ge": value is not None and value >= target,
            "le": value is not None and value <= target}[op]


def apply_query(rows: list[dict], query: dict[str, list[str]]) -> list[dict]:
    if "$filter" in query:
        clauses = parse_filter(query["$filter"][0])
        for name, _, _ in clauses:
            if rows and name not in rows[0]:
                raise ODataError(400, "BadRequest_NotFound", f"Could not find a property named '{name}'.")
        rows = [r for r in rows if all(_compare(r.get(n), op, t) for n, op, t in clauses)]
    if "$top" in query:
        rows = rows[: int(query["$top"][0])]
    if "$select" in query:
        keep = {"id", "@odata.etag", *query["$select"][0].split(",")}
        rows = [{k: v for k, v in r.items() if k in keep} for r in rows]
    return rows


def etag(version: int) -> str:
    return f'W/"JzE5OzEwMDAw{version:08d}Ow=="'


def self_signed(directory: str | None = None) -> tuple[str, str]:
    """A certificate for 127.0.0.1/localhost; clients trust it through `ca_bundle`."""
    directory = Path(directory or tempfile.mkdtemp(prefix="bc-sandbox-"))
    directory.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bc-sandbox.local")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=825))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


class TlsSandboxServer(SandboxServer):
    """The shared sandbox server behind TLS; the handshake runs on the request's own thread."""

    def __init__(self, app, *, host: str = "127.0.0.1", port: int = 0, verbose: bool = False,
                 cert_dir: str | None = None):
        super().__init__(app, host=host, port=port, verbose=verbose)
        self.cert_path, key_path = self_signed(cert_dir)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_path, key_path)
        plain = self.httpd.finish_request

        def finish_tls(request, client_address):
            try:
                tls = context.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return
            plain(tls, client_address)

        self.httpd.finish_request = finish_tls
        app.ca_bundle = self.cert_path

    @property
    def base_url(self) -> str:
        return f"https://{self.host}:{self.port}"
