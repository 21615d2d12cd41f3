"""OAuth 2.0 authorization code (+ PKCE) and token refresh, through Authlib.

Refresh runs under `select_for_update` on the Connection row. That is the one deliberate remote
call inside a transaction in this project: a vendor that rotates refresh tokens invalidates the
old one the moment it issues a new one, so two workers refreshing at once would leave one of
them (and then the connection) holding a dead token. Holding the row lock across the exchange
makes the second worker wait, re-read the row and use the token the first one stored. The HTTP
stack refuses every other request inside a transaction; this one is let through by name
(`remote_call_in_atomic`), and only for the token request itself.
"""

import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from .atomic_guard import remote_call_in_atomic
from .errors import AuthExpired, ConnectorError, Transient
from .hosts import credential_url_check
from .http import session_guard
from .models import Connection
from .vendor_settings import VendorSettings

TIMEOUT = (5, 30)
EARLY_REFRESH = timedelta(seconds=60)
PENDING_TTL = 3600


def oauth_endpoints(connection: Connection) -> dict[str, str]:
    """The vendor's authorize/token/revoke URLs: on the base URL's host, or the one the vendor's
    settings class names for it (`oauth_hosts`; a sandbox serves OAuth on its own host).
    `settings` may override each URL."""
    settings = VendorSettings.of(connection)
    parts = urlsplit(connection.base_url)
    host = settings.oauth_hosts.get(parts.hostname or "", f"{parts.scheme}://{parts.netloc}")
    urls = {"authorize": f"{host}/oauth/authorize/", "token": f"{host}/oauth/token/",
            "revoke": f"{host}/oauth/token/revoke/"}
    overrides = {"authorize": settings.oauth_authorize_url, "token": settings.oauth_token_url,
                 "revoke": settings.oauth_revoke_url}
    for name in urls:
        urls[name] = overrides[name] or urls[name]
        credential_url_check(system=connection.system, url=urls[name],
                             field="settings" if overrides[name] else "base_url")
    return urls


def _session(connection: Connection, **kw) -> OAuth2Session:
    session = OAuth2Session(connection.client_id, connection.client_secret,
                            token_endpoint_auth_method="client_secret_basic", **kw)
    return session_guard(session, system=connection.system)


def oauth_authorization_start(*, connection: Connection, redirect_uri: str) -> str:
    """Returns the URL to send the person to. State and PKCE verifier wait in the shared cache
    (database or Redis), so the callback can land on any web process."""
    verifier = secrets.token_urlsafe(64)[:96]
    state = secrets.token_urlsafe(24)
    scope = VendorSettings.of(connection).oauth_scope
    session = _session(connection, scope=scope, redirect_uri=redirect_uri, code_challenge_method="S256")
    url, _ = session.create_authorization_url(oauth_endpoints(connection)["authorize"], state=state,
                                              code_verifier=verifier)
    cache.set(f"oauth:{state}", {"connection": connection.pk, "verifier": verifier, "redirect_uri": redirect_uri},
              PENDING_TTL)
    return url


def oauth_authorization_finish(*, state: str, code: str = "", error: str = "") -> Connection:
    pending = cache.get(f"oauth:{state}")
    if not pending:
        raise AuthExpired("unknown or expired OAuth state: start the connection again")
    cache.delete(f"oauth:{state}")
    connection = Connection.objects.get(pk=pending["connection"])
    if error or not code:
        raise AuthExpired(f"authorization refused: {error or 'no code returned'}")
    session = _session(connection, redirect_uri=pending["redirect_uri"])
    try:
        token = session.fetch_token(oauth_endpoints(connection)["token"], grant_type="authorization_code", code=code,
                                    code_verifier=pending["verifier"], timeout=TIMEOUT)
    except OAuthError as exc:
        raise AuthExpired(f"token exchange failed: {exc.error} {exc.description or ''}".strip()) from exc
    _store(connection, token)
    connection.auth_method = Connection.AuthMethod.OAUTH2
    connection.status = Connection.Status.CONNECTED
    connection.save()
    return connection


def _store(connection: Connection, token: dict) -> None:
    connection.access_token = token["access_token"]
    # Inferred from the vendor docs: keep the old refresh token unless a new one is returned.
    if token.get("refresh_token"):
        connection.refresh_token = token["refresh_token"]
    expires_in = int(token.get("expires_in") or 3600)
    connection.token_expires_at = timezone.now() + timedelta(seconds=expires_in)


def oauth_access_token(*, connection: Connection) -> str:
    if connection.token_expires_at and connection.token_expires_at - EARLY_REFRESH <= timezone.now():
        oauth_token_refresh(connection=connection, rejected_token=connection.access_token)
    return connection.access_token


def oauth_token_refresh(*, connection: Connection, rejected_token: str | None = None) -> None:
    failure = None
    with transaction.atomic():
        row = Connection.objects.select_for_update().get(pk=connection.pk)
        fresh = row.token_expires_at and row.token_expires_at - EARLY_REFRESH > timezone.now()
        if row.access_token != rejected_token and fresh:
            # Another worker refreshed while we waited for the lock: use its token.
            _copy_tokens(row, connection)
            return
        if not row.refresh_token:
            failure = AuthExpired("no refresh token: reconnect")
        else:
            try:
                with remote_call_in_atomic(reason="refresh-token rotation under the connection's row lock"):
                    token = _session(row).refresh_token(oauth_endpoints(row)["token"],
                                                        refresh_token=row.refresh_token, timeout=TIMEOUT)
            except OAuthError as exc:
                failure = AuthExpired(f"token refresh refused: {exc.error}")
            except ConnectorError:
                raise
            except Exception as exc:  # network trouble: the grant may still be fine
                raise Transient(f"token refresh failed: {exc}") from exc
            else:
                _store(row, token)
                row.save(update_fields=["access_token", "refresh_token", "token_expires_at", "updated_at"])
                _copy_tokens(row, connection)
                return
    Connection.objects.filter(pk=connection.pk).update(status=Connection.Status.EXPIRED, last_check_ok=False,
                                                       last_check_detail=failure.message)
    connection.status = Connection.Status.EXPIRED
    raise failure


def _copy_tokens(source: Connection, target: Connection) -> None:
    target.access_token, target.refresh_token = source.access_token, source.refresh_token
    target.token_expires_at = source.token_expires_at
