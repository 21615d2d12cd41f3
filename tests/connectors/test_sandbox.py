"""The sandbox itself: control endpoint, pagination, idempotency scope, snapshot, CLI banner."""

import filecmp
import subprocess
import sys
import time
from pathlib import Path

import requests

from connectors.wafeq.sandbox import spec as wspec
from connectors.wafeq.sandbox.server import API_KEY, make_server

H = {"Authorization": f"Api-Key {API_KEY}"}


def test_shipped_spec_is_the_shared_contract():
    shared = Path("/work/shared/specs/wafeq-openapi-subset.json")
    if shared.exists():
        assert filecmp.cmp(shared, wspec.SPEC_PATH, shallow=False)


def test_pagination_links_are_absolute_and_complete(wafeq_server):
    url = f"{wafeq_server.base_url}/v1/accounts/"
    first = requests.get(url, params={"page_size": 5, "classification": "EXPENSE"}, headers=H).json()
    assert first["count"] == 8 and len(first["results"]) == 5 and first["previous"] is None
    second = requests.get(first["next"], headers=H).json()
    assert len(second["results"]) == 3 and second["next"] is None and second["previous"].startswith("http://")
    assert requests.get(url, params={"page": 9}, headers=H).status_code == 404


def test_control_endpoint_faults_and_ledger(wafeq_server):
    base = wafeq_server.base_url
    assert requests.post(f"{base}/__sandbox__/faults", json={"kind": "server_error", "count": 1, "status": 502}).ok
    assert requests.get(f"{base}/v1/organization/", headers=H).status_code == 502
    assert requests.get(f"{base}/v1/organization/", headers=H).status_code == 200
    requests.post(f"{base}/__sandbox__/settings", json={"rate_limit": {"per_second": 1, "retry_after": "3"}})
    statuses = [requests.get(f"{base}/v1/organization/", headers=H) for _ in range(3)]
    limited = [r for r in statuses if r.status_code == 429]
    assert limited and limited[0].headers["Retry-After"] == "3"
    requests.post(f"{base}/__sandbox__/clear")
    ledger = requests.get(f"{base}/__sandbox__/ledger").json()["ledger"]
    assert {"expenses", "accounts", "ledger-transactions"} <= set(ledger)
    assert requests.post(f"{base}/__sandbox__/faults", json={"kind": "nonsense"}).status_code == 400


def test_latency_switch(wafeq_server):
    wafeq_server.app.latency_ms = 200
    started = time.monotonic()
    requests.get(f"{wafeq_server.base_url}/v1/organization/", headers=H)
    assert time.monotonic() - started >= 0.2


def test_idempotency_is_per_credential_and_only_for_2xx(wafeq_server):
    base = wafeq_server.base_url
    bad = requests.post(f"{base}/v1/contacts/", json={}, headers={**H, "X-Wafeq-Idempotency-Key": "k"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["attr"] == "name"
    good = requests.post(f"{base}/v1/contacts/", json={"name": "Uber"}, headers={**H, "X-Wafeq-Idempotency-Key": "k"})
    assert good.status_code == 201 and good.headers["X-Wafeq-Idempotent-Replayed"] == "false"


def test_snapshot_round_trip(tmp_path):
    snap = tmp_path / "wafeq.json"
    server = make_server(snapshot=str(snap)).start()
    try:
        requests.post(f"{server.base_url}/v1/contacts/", json={"name": "Persisted"}, headers=H)
        server.app.save()
    finally:
        server.stop()
    again = make_server(snapshot=str(snap))
    assert any(c["name"] == "Persisted" for c in again.app.store["contacts"].values())


def test_cli_prints_base_url_and_credentials():
    proc = subprocess.Popen([sys.executable, "manage.py", "sandbox", "wafeq", "--port", "0"], stdout=subprocess.PIPE,
                            text=True, cwd=Path(__file__).resolve().parents[2])
    try:
        lines = [proc.stdout.readline() for _ in range(3)]
    finally:
        proc.terminate()
        proc.wait(10)
    assert lines[0].startswith("Wafeq sandbox: http://127.0.0.1:") and lines[0].rstrip().endswith("/v1/")
    assert lines[1].strip() == f"api key: {API_KEY}"
    assert lines[2].strip().startswith("oauth client id: ")
