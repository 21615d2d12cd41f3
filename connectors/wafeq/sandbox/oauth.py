"""The sandbox's OAuth 2.0 server (vendor notes §2.2): authorize (consent page), token
(authorization_code with optional PKCE S256, refresh_token; Basic client auth) and revoke.

Redirect URIs: with no allow-list configured, any loopback URI is accepted (RFC 8252 style),
so `make run` on any port and tests on random ports both work; set `redirect_uris` to insist on
an exact match like the real portal does.
"""

import base64
import hashlib
import html
import secrets
import time
from urllib.parse import urlencode, urlsplit

from ...sandboxing.server import Request, Response

CODE_TTL = 3600
ACCESS_TTL = 3600


def _oauth_error(error: str, description: str = "", status: int = 400) -> Response:
    return Response(status, {"error": error, "error_description": description})


class OAuthMixin:
    def oauth_reset(self) -> None:
        from .server import CLIENT_ID, CLIENT_SECRET
        self.clients = {CLIENT_ID: CLIENT_SECRET}
        self.redirect_uris: set[str] | None = None
        self.codes: dict[str, dict] = {}
        self.tokens: dict[str, dict] = {}
        self.refresh_tokens: dict[str, dict] = {}
        self.token_requests = 0

    def token_valid(self, token: str) -> bool:
        info = self.tokens.get(token)
        return bool(info and info["expires"] > time.time())

    def expire_access_tokens(self) -> None:
        with self.lock:
            for info in self.tokens.values():
                info["expires"] = 0

    def oauth_handle(self, req: Request) -> Response:
        path = req.path.rstrip("/")
        if path == "/oauth/authorize":
            return self._authorize(req)
        if path == "/oauth/token":
            return self._token(req)
        if path == "/oauth/token/revoke":
            return self._revoke(req)
        return _oauth_error("not_found", status=404)

    def _redirect_ok(self, uri: str) -> bool:
        if self.redirect_uris is not None:
            return uri in self.redirect_uris
        return urlsplit(uri).hostname in ("127.0.0.1", "localhost", "::1")

    def _authorize(self, req: Request) -> Response:
        params = {k: v[0] for k, v in req.query.items()}
        if req.method == "POST":
            params.update(req.form())
        client_id, redirect_uri = params.get("client_id", ""), params.get("redirect_uri", "")
        if client_id not in self.clients:
            return _oauth_error("invalid_client", "unknown client_id")
        if not redirect_uri or not self._redirect_ok(redirect_uri):
            return _oauth_error("invalid_request", "redirect_uri is not allow-listed for this client")
        if params.get("response_type") != "code" or not params.get("scope"):
            return _oauth_error("invalid_request", "response_type=code and scope are required")
        method = params.get("code_challenge_method", "")
        if params.get("code_challenge") and method != "S256":
            return _oauth_error("invalid_request", "only code_challenge_method=S256 is supported")
        state = params.get("state", "")
        if req.method == "GET":
            return Response(200, self._consent_page(params), content_type="text/html; charset=utf-8")
        sep = "&" if "?" in redirect_uri else "?"
        if params.get("decision") != "allow":
            return Response(302, None, {"Location": redirect_uri + sep + urlencode({"error": "access_denied",
                                                                                   "state": state})})
        code = secrets.token_urlsafe(24)
        with self.lock:
            self.codes[code] = {"client_id": client_id, "redirect_uri": redirect_uri, "scope": params["scope"],
                                "challenge": params.get("code_challenge", ""), "expires": time.time() + CODE_TTL}
        return Response(302, None, {"Location": redirect_uri + sep + urlencode({"code": code, "state": state})})

    def _consent_page(self, params: dict) -> str:
        hidden = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                         for k, v in params.items() if k != "decision")
        org = html.escape(self.organization["name"]["en"])
        scopes = "".join(f"<li>{html.escape(s)}</li>" for s in params["scope"].split())
        return (f"<!doctype html><html><head><title>Wafeq sandbox: authorize</title></head>"
                f"<body style='font-family:sans-serif;max-width:32rem;margin:4rem auto'>"
                f"<h1>Authorize access to {org}</h1><p>Client <code>{html.escape(params['client_id'])}</code> "
                f"asks for:</p><ul>{scopes}</ul><form method='post' action='/oauth/authorize/'>{hidden}"
                f"<button name='decision' value='allow' id='allow'>Allow</button> "
                f"<button name='decision' value='deny' id='deny'>Deny</button></form></body></html>")

    def _client_from_basic(self, req: Request) -> str | None:
        scheme, _, value = req.header("authorization").partition(" ")
        if scheme != "Basic":
            return None
        try:
            client_id, _, secret = base64.b64decode(value).decode().partition(":")
        except ValueError:
            return None
        return client_id if self.clients.get(client_id) == secret else None

    def _issue(self, client_id: str, scope: str, refresh: str | None = None) -> dict:
        access = secrets.token_urlsafe(32)
        grant = refresh or secrets.token_urlsafe(8)
        self.tokens[access] = {"client_id": client_id, "expires": time.time() + ACCESS_TTL,
                               "grant": grant if refresh is None else self.refresh_tokens[refresh]["grant"]}
        out = {"access_token": access, "token_type": "Bearer", "expires_in": ACCESS_TTL, "scope": scope}
        if refresh is None or self.rotate_refresh_tokens:
            new_refresh = secrets.token_urlsafe(32)
            self.refresh_tokens[new_refresh] = {"client_id": client_id, "scope": scope,
                                                "grant": self.tokens[access]["grant"]}
            if refresh is not None:
                # Rotation: the old refresh token dies the moment a new one is issued.
                del self.refresh_tokens[refresh]
            out["refresh_token"] = new_refresh
        return out

    def _token(self, req: Request) -> Response:
        if req.method != "POST":
            return _oauth_error("invalid_request", "POST only", status=405)
        client_id = self._client_from_basic(req)
        if client_id is None:
            return _oauth_error("invalid_client", "Basic client authentication failed", status=401)
        form = req.form()
        with self.lock:
            self.token_requests += 1
            if form.get("grant_type") == "authorization_code":
                info = self.codes.pop(form.get("code", ""), None)
                if not info or info["expires"] < time.time() or info["client_id"] != client_id:
                    return _oauth_error("invalid_grant", "code is invalid, used or expired")
                if form.get("redirect_uri") and form["redirect_uri"] != info["redirect_uri"]:
                    return _oauth_error("invalid_grant", "redirect_uri does not match")
                if info["challenge"]:
                    verifier = form.get("code_verifier", "")
                    digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
                    if not 43 <= len(verifier) <= 128 or digest.decode() != info["challenge"]:
                        return _oauth_error("invalid_grant", "PKCE verification failed")
                return Response(200, self._issue(client_id, info["scope"]))
            if form.get("grant_type") == "refresh_token":
                refresh = form.get("refresh_token", "")
                info = self.refresh_tokens.get(refresh)
                if not info or info["client_id"] != client_id:
                    return _oauth_error("invalid_grant", "refresh token is invalid or revoked")
                return Response(200, self._issue(client_id, info["scope"], refresh=refresh))
        return _oauth_error("unsupported_grant_type")

    def _revoke(self, req: Request) -> Response:
        form = req.form()
        if self.clients.get(form.get("client_id", "")) != form.get("client_secret"):
            return _oauth_error("invalid_client", status=401)
        with self.lock:
            token = form.get("token", "")
            if token in self.refresh_tokens:
                grant = self.refresh_tokens.pop(token)["grant"]
                for access in [a for a, i in self.tokens.items() if i["grant"] == grant]:
                    del self.tokens[access]
            self.tokens.pop(token, None)
        return Response(200, {})
