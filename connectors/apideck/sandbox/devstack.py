"""`make run`: an Apideck (service workday) sandbox on :8814 and a demo connection set up through
the real services. Idempotent."""

from ...sandboxing.devstack import demo_connection, sandbox_process, sandbox_wait
from .server import API_KEY, APP_ID, CONSUMER_ID

PORT = 8814


def processes(ctx):
    return sandbox_process(ctx, "apideck", PORT)


def seed(ctx):
    base = ctx.get("apideck_base_url", f"http://127.0.0.1:{PORT}")
    sandbox_wait(f"{base}/__sandbox__/")
    demo_connection(ctx, system="apideck", name="Workday via Apideck (sandbox)", base_url=base, api_key=API_KEY,
                    settings={"app_id": APP_ID, "consumer_id": CONSUMER_ID, "service_id": "workday",
                              "company_id": "C100", "default_cost_center": "CC100"})
