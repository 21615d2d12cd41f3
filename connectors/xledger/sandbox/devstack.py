"""`make run`: an Xledger GraphQL sandbox on :8812 and a demo connection set up through the real
services (token, test, choose or create the three accounts). Idempotent."""

from ...models import Connection
from ...sandboxing.devstack import demo_connection, sandbox_process, sandbox_wait
from .server import API_TOKEN

PORT = 8812


def processes(ctx):
    return sandbox_process(ctx, "xledger", PORT)


def seed(ctx):
    base = ctx.get("xledger_base_url", f"http://127.0.0.1:{PORT}")
    sandbox_wait(f"{base}/__sandbox__/")
    demo_connection(ctx, system="xledger", name="Xledger (sandbox)", base_url=base,
                    auth_method=Connection.AuthMethod.TOKEN, api_key=API_TOKEN)
