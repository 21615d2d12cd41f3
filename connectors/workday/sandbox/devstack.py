"""`make run`: a Workday SOAP sandbox on :8813 and a demo connection set up through the real
services (test, fetch the account set, choose or create the three accounts). Idempotent."""

from ...models import Connection
from ...sandboxing.devstack import demo_connection, sandbox_process, sandbox_wait
from .testkit import COMPANY, PASSWORD, USERNAME

PORT = 8813
ENDPOINT = "/ccx/service/expensico_sbx/Financial_Management/v30.0"


def processes(ctx):
    return sandbox_process(ctx, "workday", PORT)


def seed(ctx):
    base = ctx.get("workday_base_url", f"http://127.0.0.1:{PORT}")
    sandbox_wait(f"{base}/__sandbox__/")
    demo_connection(ctx, system="workday", name="Workday (SOAP sandbox)", base_url=base + ENDPOINT,
                    auth_method=Connection.AuthMethod.BASIC, client_id=USERNAME, api_key=PASSWORD,
                    settings={"company": COMPANY, "account_set": "Standard", "default_cost_center": "CC100"})
