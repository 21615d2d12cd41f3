"""`make run`: a Business Central sandbox (HTTPS, Entra token endpoint included) on :8811 and a
demo connection set up through the real services: client credentials via msal, test, choose
(or create) the three accounts. Idempotent: a second run reuses the connection."""

from django.conf import settings

from ...models import Connection
from ...sandboxing.devstack import demo_connection, sandbox_process, sandbox_wait
from .server import API_PREFIX, CLIENT_ID, CLIENT_SECRET

PORT = 8811


def processes(ctx):
    return sandbox_process(ctx, "business_central", PORT, scheme="https")


def seed(ctx):
    base = ctx.get("business_central_base_url", f"https://127.0.0.1:{PORT}")
    ca_bundle = str(settings.VAR_DIR / "business-central-sandbox-tls" / "cert.pem")
    sandbox_wait(f"{base}/__sandbox__/", verify=ca_bundle)
    demo_connection(ctx, system="business_central", name="Business Central (sandbox)",
                    base_url=f"{base}{API_PREFIX}".rstrip("/"),
                    auth_method=Connection.AuthMethod.CLIENT_CREDENTIALS, client_id=CLIENT_ID,
                    client_secret=CLIENT_SECRET,
                    settings={"authority_host": base, "ca_bundle": ca_bundle, "export_mode": "journal"})
