"""`make run`: a Business Central sandbox (HTTPS, Entra token endpoint included) on :8811 and a
demo connection set up through the real services: client credentials via msal, test, choose
(or create) the three accounts. Idempotent: a second run reuses the connection."""

import sys
import time

import requests
from django.conf import settings

from ..models import Connection
from ..services import connection_create, connection_setup_run
from .sandbox import API_PREFIX, CLIENT_ID, CLIENT_SECRET

PORT = 8811
NAME = "Business Central (sandbox)"


def processes(ctx):
    ctx["business_central_base_url"] = f"https://127.0.0.1:{PORT}"
    snapshot = str(settings.VAR_DIR / "business-central-sandbox.json")
    return [("business-central-sandbox", [sys.executable, "manage.py", "sandbox", "business_central", "--port",
                                          str(PORT), "--snapshot", snapshot])]


def _wait(url: str, ca_bundle: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1, verify=ca_bundle)
            return
        except (requests.RequestException, OSError):
            time.sleep(0.3)
    raise SystemExit(f"the Business Central sandbox at {url} did not start")


def seed(ctx):
    base = ctx.get("business_central_base_url", f"https://127.0.0.1:{PORT}")
    ca_bundle = str(settings.VAR_DIR / "business-central-sandbox-tls" / "cert.pem")
    _wait(f"{base}/__sandbox__/", ca_bundle)
    org = ctx["organization"]
    conn = Connection.objects.filter(organization=org, name=NAME).first() or connection_create(
        organization=org, system="business_central", name=NAME, base_url=f"{base}{API_PREFIX}".rstrip("/"),
        auth_method=Connection.AuthMethod.CLIENT_CREDENTIALS, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
        settings={"authority_host": base, "ca_bundle": ca_bundle, "export_mode": "journal"})
    outcome = connection_setup_run(connection=conn)
    conn.refresh_from_db()
    ctx["business_central_connection_id"] = conn.pk
    print(f"  business central: {conn.name} {conn.status}; claims={conn.employee_claims_account_name!r} "
          f"balance={conn.employees_balance_account_name!r} bank={conn.funding_bank_account_name!r} "
          f"({outcome.get('expense_accounts', 0)} expense accounts)")
