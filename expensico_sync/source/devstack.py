"""`make run`: the Expensico simulator on :8700 and a first batch of signed webhooks for the demo org."""

import sys
import time

import requests

from .services import expensico_source_configure
from .simulator.generator import generate
from .simulator.sender import send_webhooks

PORT = 8700
SEED = 42
SCALE = 30
TOKEN = "sim-token"  # the simulator's dev-only bearer token


def _url() -> str:
    return f"http://127.0.0.1:{PORT}"


def processes(ctx):
    port = PORT + ctx.get("port_offset", 0)
    ctx["expensico_simulator_url"] = f"http://127.0.0.1:{port}"
    return [("expensico-simulator", [sys.executable, "manage.py", "expensico_simulator", "--port", str(port),
                                     "--seed", str(SEED), "--scale", str(SCALE), "--token", TOKEN])]


def _wait(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(f"{url}/v1/categories", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.3)
    raise SystemExit(f"the Expensico simulator at {url} did not answer within {timeout}s")


def seed(ctx):
    """Idempotent: the same seed gives the same webhook ids, so a re-run only produces duplicates."""
    org = ctx["organization"]
    url = ctx.get("expensico_simulator_url", _url())
    _wait(url)
    expensico_source_configure(organization=org, base_url=url, token=TOKEN)
    dataset = generate(seed=SEED, scale=SCALE, base_url=url)  # the same data the simulator serves
    statuses = send_webhooks(dataset.events, url=f"{ctx['base_url']}/api/v1/expensico/webhooks/{org.slug}/",
                             secret=org.webhook_secret)
    print(f"  expensico: {len(dataset.events)} webhooks sent to {org.slug}: {dict(sorted(statuses.items()))}")
