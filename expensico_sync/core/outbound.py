"""Where the Expensico side may send a credential or fetch a file.

Expensico's API host is always allowed. Any other host (a simulator on loopback, a staging
Expensico) only when the deployment names it in EXPENSICO_HOSTS_ALLOW or VENDOR_HOSTS_ALLOW;
DEBUG implies nothing. A host that is not named there must also resolve only to public
addresses, checked on every connection (redirects included) and pinned for that connection, so
a DNS answer cannot swap in a private address between the check and the connect.
"""

import ipaddress
import socket
from urllib.parse import urljoin, urlsplit

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NameResolutionError

# expensico-api.md gives the pull API's base URL per organisation and names no host; this is
# Expensico's production API host. Anything else must be listed by the deployment.
EXPENSICO_API_HOSTS = frozenset({"api.expensico.com"})
DEFAULT_PORTS = {"http": 80, "https": 443}


class OutboundRefused(Exception):
    """A request we will not make: the host is not allowed, or it resolves somewhere private."""


def _normal(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


def _as_ip(host: str):
    try:
        return ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return None


def host_listed(host: str) -> bool:
    """Named by the deployment in EXPENSICO_HOSTS_ALLOW or VENDOR_HOSTS_ALLOW."""
    host = _normal(host)
    ip = _as_ip(host)
    for entry in [*settings.EXPENSICO_HOSTS_ALLOW, *settings.VENDOR_HOSTS_ALLOW]:
        entry = _normal(entry)
        if entry and (entry == host or (ip is not None and _as_ip(entry) == ip)):
            return True
    return False


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) with the scheme's default port filled in: where a request goes."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    return scheme, _normal(parts.hostname or ""), port or DEFAULT_PORTS.get(scheme)


def url_refusal(url: str) -> str | None:
    """Why a credential may not be sent to this URL, or None when it may."""
    scheme, host, _ = origin(url)
    if scheme not in DEFAULT_PORTS or not host:
        return "must be an http(s) URL with a host."
    if host_listed(host):
        return None
    if host not in EXPENSICO_API_HOSTS:
        return (f"host {host!r} is not Expensico's API host ({', '.join(sorted(EXPENSICO_API_HOSTS))}); "
                "a deployment allows others in EXPENSICO_HOSTS_ALLOW.")
    if scheme != "https":
        return "must use https."
    return None


def url_check(url: str) -> None:
    refusal = url_refusal(url)
    if refusal:
        raise OutboundRefused(f"{url_for_log(url)}: {refusal}")


def expensico_url_validate(value: str) -> None:
    """Model field validator: the API answers 400 naming the field, the admin a form error."""
    refusal = url_refusal(value)
    if refusal:
        raise ValidationError(f"Not an allowed Expensico API URL: {refusal}", code="host_not_allowed")


def url_for_log(url: str) -> str:
    scheme, host, port = origin(url)
    return f"{scheme}://{host}:{port}"


def address_pick(host: str, port: int) -> str:
    """The address to connect to. A host the deployment lists is trusted as it resolves; any other
    must resolve to public addresses only (every one of them: a single private answer refuses)."""
    if host_listed(host):
        return host
    infos = socket.getaddrinfo(_normal(host), port, type=socket.SOCK_STREAM)  # gaierror: see _new_conn
    addresses = [info[4][0] for info in infos]
    for address in addresses:
        ip = _as_ip(address)
        if ip is None or not ip.is_global or ip.is_multicast:
            raise OutboundRefused(f"{host} resolves to {address}, a private, loopback or link-local "
                                  "address; a deployment allows it in EXPENSICO_HOSTS_ALLOW.")
    return addresses[0]


class _PinnedMixin:
    def _new_conn(self):
        # urllib3 connects to _dns_host and verifies TLS against self.host, which is restored
        # before the handshake: the certificate is still checked against the name.
        dns_host = self._dns_host
        try:
            self._dns_host = address_pick(dns_host, self.port)
        except socket.gaierror as exc:  # a DNS hiccup stays a connection error (retried), not a refusal
            raise NameResolutionError(self.host, self, exc) from exc
        try:
            return super()._new_conn()
        finally:
            self._dns_host = dns_host


class _PinnedHTTPConnection(_PinnedMixin, HTTPConnection):
    pass


class _PinnedHTTPSConnection(_PinnedMixin, HTTPSConnection):
    pass


class _PinnedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _PinnedHTTPConnection


class _PinnedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _PinnedHTTPSConnection


class _GuardedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _PinnedHTTPPool, "https": _PinnedHTTPSPool}

    def send(self, request, *args, **kwargs):
        url_check(request.url)
        return super().send(request, *args, **kwargs)


class GuardedSession(requests.Session):
    """A requests session that only reaches allowed hosts and follows redirects on the same origin."""

    def __init__(self):
        super().__init__()
        self.trust_env = False  # a proxy from the environment would be connected to instead
        for prefix in ("http://", "https://"):
            self.mount(prefix, _GuardedAdapter())

    def get_redirect_target(self, resp):
        target = super().get_redirect_target(resp)
        if target is not None and origin(urljoin(resp.url, target)) != origin(resp.url):
            raise OutboundRefused(f"{url_for_log(resp.url)} redirected off its host, to "
                                  f"{url_for_log(urljoin(resp.url, target))}: not followed.")
        return target
