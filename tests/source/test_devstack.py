import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from expensico_sync.source import devstack
from expensico_sync.source.models import Expense, WebhookDelivery
from expensico_sync.source.simulator.generator import generate
from expensico_sync.source.simulator.server import serve_in_thread
from tests.core.factories import make_org

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.django_db(transaction=True)
def test_seed_sends_signed_webhooks_and_is_idempotent(live_server, monkeypatch, capsys):
    org = make_org("demo")
    server = serve_in_thread(lambda url: generate(seed=devstack.SEED, scale=devstack.SCALE, base_url=url),
                             token=devstack.TOKEN)
    try:
        ctx = {"base_url": live_server.url, "organization": org, "expensico_simulator_url": server.base_url}
        devstack.seed(ctx)
        org.refresh_from_db()
        assert org.expensico_api_base_url == server.base_url and org.expensico_api_token == devstack.TOKEN
        accepted = WebhookDelivery.objects.filter(organization=org, outcome="accepted").count()
        assert accepted == len(server.state.dataset.events)
        expenses = Expense.objects.filter(organization=org).count()
        devstack.seed(ctx)  # a second `make run`
        assert WebhookDelivery.objects.filter(organization=org, outcome="accepted").count() == accepted
        assert WebhookDelivery.objects.filter(organization=org, outcome="duplicate").count() == accepted
        assert Expense.objects.filter(organization=org).count() == expenses
    finally:
        server.shutdown()


def test_processes_start_the_simulator_command():
    ctx = {}
    (name, argv), = devstack.processes(ctx)
    assert name == "expensico-simulator" and argv[1:3] == ["manage.py", "expensico_simulator"]
    assert "--port" in argv and ctx["expensico_simulator_url"].endswith(":8700")
    ctx = {"port_offset": 1000}
    (name, argv), = devstack.processes(ctx)
    assert argv[argv.index("--port") + 1] == "9700" and ctx["expensico_simulator_url"].endswith(":9700")


def test_simulator_command_serves_real_http():
    port = free_port()
    proc = subprocess.Popen([sys.executable, "manage.py", "expensico_simulator", "--port", str(port), "--seed", "42",
                             "--scale", "5", "--token", "t0k"], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        banner = proc.stdout.readline()
        assert f"http://127.0.0.1:{port}" in banner and "5 reports" in banner
        deadline = time.monotonic() + 10
        while True:
            try:
                body = requests.get(f"http://127.0.0.1:{port}/v1/expense-reports", timeout=2,
                                    headers={"Authorization": "Bearer t0k"}).json()
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline
                time.sleep(0.2)
        expected = generate(seed=42, scale=5, base_url=f"http://127.0.0.1:{port}")
        assert [r["id"] for r in body["data"]] == sorted(
            (r["id"] for r in expected.reports), key=lambda i: next(
                (r["approved_at"], r["id"]) for r in expected.reports if r["id"] == i))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
