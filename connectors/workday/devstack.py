"""`make run`: a Workday SOAP sandbox on :8813 and a demo connection set up through the real
services (test, fetch the account set, choose or create the three accounts). Idempotent."""

import sys
import time

import requests
from django.conf import settings

from ..models import Connection
from ..services import connection_create, connection_setup_run
from .testkit import COMPANY, PASSWORD, USERNAME

PORT = 8813
NAME = "Workday (SOAP sandbox)"
ENDPOINT = "/ccx/service/expensico_sbx/Financial_Management/v30.0"


def processes(ctx):
    ctx["workday_base_url"] = f"http://127.0.0.1:{PORT}"
    snapshot = str(settings.VAR_DIR / "workday-sandbox.json")
    return [("workday-sandbox", [sys.executable, "manage.py", "sandbox", "workday", "--port", str(PORT),
                                 "--snapshot", snapshot])]


def _wait(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.3)
    raise SystemExit(f"the Workday sandbox at {url} did not start")


def seed(ctx):
    base = ctx.get("workday_base_url", f"http://127.0.0.1:{PORT}")
    _wait(f"{base}/__sandbox__/")
    org = ctx["organization"]
    conn = Connection.objects.filter(organization=org, name=NAME).first() or connection_create(
        organization=org, system="workday", name=NAME, base_url=base + ENDPOINT,
        auth_method=Connection.AuthMethod.BASIC, client_id=USERNAME, api_key=PASSWORD,
        settings={"company": COMPANY, "account_set": "Standard", "default_cost_center": "CC100"})
    outcome = connection_setup_run(connection=conn)
    conn.refresh_from_db()
    ctx["workday_connection_id"] = conn.pk
    print(f"  workday: {conn.name} {conn.status}; claims={conn.employee_claims_account_name!r} "
          f"balance={conn.employees_balance_account_name!r} bank={conn.funding_bank_account_name!r} "
          f"({outcome.get('expense_accounts', 0)} expense accounts)")
