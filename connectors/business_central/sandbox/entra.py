"""The sandbox's Microsoft Entra ID side: OpenID discovery and the client-credentials token
endpoint, as msal uses them (`/{tenant}/v2.0/.well-known/openid-configuration`,
`/{tenant}/oauth2/v2.0/token`, scope `https://api.businesscentral.dynamics.com/.default`)."""

import secrets

from ...sandboxing.server import Request, Response

SCOPE = "https://api.businesscentral.dynamics.com/.default"


class EntraMixin:
    """Needs `self.tenant`, `self.client_secrets` {client id: secret} and `self.tokens`."""

    def entra(self, req: Request) -> Response:
        parts = [p for p in req.path.split("/") if p]
        if not parts or parts[0] != self.tenant:
            return Response(400, {"error": "invalid_request", "error_description":
                                  f"AADSTS90002: Tenant '{parts[0] if parts else ''}' not found."})
        base = f"{req.base_url}/{self.tenant}"
        if parts[1:] == ["v2.0", ".well-known", "openid-configuration"]:
            return Response(200, {"issuer": f"{base}/v2.0", "token_endpoint": f"{base}/oauth2/v2.0/token",
                                  "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                                  "jwks_uri": f"{base}/discovery/v2.0/keys",
                                  "response_types_supported": ["code", "id_token", "code id_token"],
                                  "token_endpoint_auth_methods_supported": ["client_secret_post"],
                                  "tenant_region_scope": "EU"})
        if parts[1:] == ["oauth2", "v2.0", "token"] and req.method == "POST":
            form = req.form()
            if form.get("grant_type") != "client_credentials":
                return Response(400, {"error": "unsupported_grant_type", "error_description": "AADSTS70003"})
            if self.client_secrets.get(form.get("client_id")) != form.get("client_secret") \
                    or form.get("client_id") not in self.client_secrets:
                return Response(401, {"error": "invalid_client", "error_description":
                                      "AADSTS7000215: Invalid client secret provided."})
            if form.get("scope") != SCOPE:
                return Response(400, {"error": "invalid_scope", "error_description":
                                      f"AADSTS70011: The provided value for scope {form.get('scope')} is not valid."})
            token = "eyJ0eXAiOiJKV1Qi." + secrets.token_urlsafe(32)
            self.tokens.add(token)
            return Response(200, {"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599,
                                  "access_token": token})
        return Response(404, {"error": "not_found"})

