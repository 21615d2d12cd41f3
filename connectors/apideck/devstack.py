"""`make run`: an Apideck (service workday) sandbox on :8814 and a demo connection set up through
the real services. Idempotent."""

import sys
import time

import requests
from django.conf import settings

from ..models import Connection
from ..services import connection_create, connection_setup_run
from .sandbox import API_KEY, APP_ID, CONSUMER_ID

PORT = 8814
NAME = "Workday via Apideck (sandbox)"


def processes(ctx):
    ctx["apideck_base_url"] = f"http://127.0.0.1:{PORT}"
    snapshot = str(settings.VAR_DIR / "apideck-sandbox.json")
    return [("apideck-sandbox", [sys.executable, "manage.py", "sandbox", "apideck", "--port", str(PORT),
                                 "--snapshot", snapshot])]


def _wait(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.3)
    raise SystemExit(f"the Apideck sandbox at {url} did not start")


def seed(ctx):
    base = ctx.get("apideck_base_url", f"http://127.0.0.1:{PORT}")
    _wait(f"{base}/__sandbox__/")
    org = ctx["organization"]
    conn = Connection.objects.filter(organization=org, name=NAME).first() or connection_create(
        organization=org, system="apideck", name=NAME, base_url=base, api_key=API_KEY,
        settings={"app_id": APP_ID, "consumer_id": CONSUMER_ID, "service_id": "workday", "company_id": "C100",
                  "default_cost_center": "CC100"})
    outcome = connection_setup_run(connection=conn)
    conn.refresh_from_db()
    ctx["apideck_connection_id"] = conn.pk
    print(f"  apideck: {conn.name} {conn.status}; claims={conn.employee_claims_account_name!r} "
          f"balance={conn.employees_balance_account_name!r} bank={conn.funding_bank_account_name!r} "
          f"({outcome.get('expense_accounts', 0)} expense accounts)")
