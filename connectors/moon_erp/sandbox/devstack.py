"""`make run`: a Moon ERP sandbox on :8815 and a demo connection set up through the real
services (token, test, choose or create the three accounts). Idempotent."""

from ...models import Connection
from ...sandboxing.devstack import demo_connection, sandbox_process, sandbox_wait
from .server import FULL_TOKEN

PORT = 8815


def processes(ctx):
    return sandbox_process(ctx, "moon_erp", PORT)


def seed(ctx):
    base = ctx.get("moon_erp_base_url", f"http://127.0.0.1:{PORT}")
    sandbox_wait(f"{base}/__sandbox__/")
    demo_connection(ctx, system="moon_erp", name="Moon ERP (sandbox)", noun="expense categories", base_url=base,
                    auth_method=Connection.AuthMethod.TOKEN, api_key=FULL_TOKEN)
