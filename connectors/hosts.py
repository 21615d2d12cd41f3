"""Where a vendor credential may be sent: one of the vendor's own hosts (its `hosts` in
connectors/registry.py), or a host this deployment names in VENDOR_HOSTS_ALLOW (sandboxes on loopback).

Checked when a URL is stored (API, admin, services) and again by the HTTP stack just before any
request leaves, token endpoints and redirects included: a URL that slipped into the database some
other way still never receives a credential.
"""

from urllib.parse import urlsplit

from django.conf import settings

from .errors import Permanent
from .registry import vendor


def _normal(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


def host_matches(host: str, pattern: str) -> bool:
    """`*.x.com` matches any subdomain of x.com (not x.com itself); anything else matches exactly."""
    host, pattern = _normal(host), _normal(pattern)
    if pattern.startswith("*."):
        return host.endswith(pattern[1:]) and len(host) > len(pattern) - 1
    return bool(host) and host == pattern


def vendor_hosts(system: str) -> tuple[str, ...]:
    try:
        return vendor(system).hosts
    except LookupError:
        return ()


def credential_url_refusal(*, system: str, url: str) -> str | None:
    """Why a credential of `system` may not be sent to `url`, or None when it may."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018  (raises on a malformed port)
    except ValueError:
        return f"{url!r} is not a valid URL"
    if parts.scheme not in ("http", "https") or not host:
        return f"{url!r} is not an http(s) URL with a host"
    if "@" in parts.netloc or "\\" in url:
        # Parsers disagree on where such a host ends; nothing legitimate needs one.
        return "a URL with user info or a backslash is not accepted"
    if any(host_matches(host, allowed) for allowed in settings.VENDOR_HOSTS_ALLOW):
        return None
    own = vendor_hosts(system)
    if any(host_matches(host, pattern) for pattern in own):
        return None if parts.scheme == "https" else f"{host} is only reached over https"
    return (f"{host} is not a {system or 'vendor'} host ({', '.join(own) or 'none declared'}) "
            f"and not in VENDOR_HOSTS_ALLOW")


def credential_url_check(*, system: str, url: str, field: str = "base_url") -> None:
    reason = credential_url_refusal(system=system, url=url)
    if reason:
        raise Permanent(f"{field}: {reason}", code="host_not_allowed", field=field)
