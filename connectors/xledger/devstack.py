"""`make run`: an Xledger GraphQL sandbox on :8812 and a demo connection set up through the real
services (token, test, choose or create the three accounts). Idempotent."""

import sys
import time

import requests
from django.conf import settings

from ..models import Connection
from ..services import connection_create, connection_setup_run
from .sandbox import API_TOKEN

PORT = 8812
NAME = "Xledger (sandbox)"


def processes(ctx):
    ctx["xledger_base_url"] = f"http://127.0.0.1:{PORT}"
    snapshot = str(settings.VAR_DIR / "xledger-sandbox.json")
    return [("xledger-sandbox", [sys.executable, "manage.py", "sandbox", "xledger", "--port", str(PORT),
                                 "--snapshot", snapshot])]


def _wait(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.3)
    raise SystemExit(f"the Xledger sandbox at {url} did not start")


def seed(ctx):
    base = ctx.get("xledger_base_url", f"http://127.0.0.1:{PORT}")
    _wait(f"{base}/__sandbox__/")
    org = ctx["organization"]
    conn = Connection.objects.filter(organization=org, name=NAME).first() or connection_create(
        organization=org, system="xledger", name=NAME, base_url=base, auth_method=Connection.AuthMethod.TOKEN,
        api_key=API_TOKEN)
    outcome = connection_setup_run(connection=conn)
    conn.refresh_from_db()
    ctx["xledger_connection_id"] = conn.pk
    print(f"  xledger: {conn.name} {conn.status}; claims={conn.employee_claims_account_name!r} "
          f"balance={conn.employees_balance_account_name!r} bank={conn.funding_bank_account_name!r} "
          f"({outcome.get('expense_accounts', 0)} expense accounts)")
