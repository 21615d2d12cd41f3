"""The Apideck sandbox over a real socket, spoken to with plain requests (no connector)."""

import requests

from connectors.apideck.sandbox.server import API_KEY, APP_ID, CONSUMER_ID, ApideckSandbox
from connectors.apideck.schema import encode_account_id

HEADERS = {"Authorization": f"Bearer {API_KEY}", "x-apideck-app-id": APP_ID, "x-apideck-consumer-id": CONSUMER_ID,
           "x-apideck-service-id": "workday"}
TRAVEL, AP = encode_account_id("6100", "Standard"), encode_account_id("2100", "Standard")


def call(server, method, path, headers=HEADERS, **kw):
    return requests.request(method, server.base_url + path, headers=headers, timeout=10, **kw)


def je(number="N1", status="posted", worktags=True, credit=50):
    tags = [{"id": "Cost_Center_Reference_ID", "value": "CC100"}] if worktags else []
    return {"number": number, "status": status, "currency": "SAR", "line_items": [
        {"type": "debit", "total_amount": 50, "ledger_account": {"id": TRAVEL}, "worktags": tags},
        {"type": "credit", "total_amount": credit, "ledger_account": {"id": AP}, "worktags": tags}]}


def test_headers_and_key(apideck_server):
    missing = call(apideck_server, "GET", "/accounting/ledger-accounts",
                   headers={k: v for k, v in HEADERS.items() if k != "x-apideck-consumer-id"})
    assert missing.status_code == 400 and missing.json()["type_name"] == "RequestHeadersValidationError"
    assert missing.json()["detail"] == "Missing Header: x-apideck-consumer-id"
    bad = call(apideck_server, "GET", "/accounting/ledger-accounts", headers={**HEADERS, "Authorization": "Bearer no"})
    assert bad.status_code == 401 and bad.json()["type_name"] == "UnauthorizedError"


def test_ledger_accounts_have_encoded_ids_and_cursor_pages(apideck_server):
    first = call(apideck_server, "GET", "/accounting/ledger-accounts", params={"limit": 4}).json()
    assert first["meta"]["items_on_page"] == 4 and first["meta"]["cursors"]["next"]
    seen = [r["id"] for r in first["data"]]
    cursor = first["meta"]["cursors"]["next"]
    while cursor:
        page = call(apideck_server, "GET", "/accounting/ledger-accounts", params={"limit": 4, "cursor": cursor}).json()
        seen += [r["id"] for r in page["data"]]
        cursor = page["meta"]["cursors"]["next"]
    assert len(seen) == len(set(seen)) == len(apideck_server.app.ledger_accounts)
    assert encode_account_id("6400", "Corporate") in seen and encode_account_id("6400", "Standard") in seen
    foreign = call(apideck_server, "GET", "/accounting/ledger-accounts", params={"cursor": "em9obzo6cGFnZTo6Mg=="})
    assert foreign.status_code == 400 and foreign.json()["type_name"] == "InvalidCursorError"


def test_journal_entry_rules(apideck_server):
    created = call(apideck_server, "POST", "/accounting/journal-entries", json=je())
    assert created.status_code == 201 and created.json()["operation"] == "add"
    wid = created.json()["data"]["id"]
    got = call(apideck_server, "GET", f"/accounting/journal-entries/{wid}").json()["data"]
    assert got["status"] == "posted" and got["number"] == "N1"
    patch = call(apideck_server, "PATCH", f"/accounting/journal-entries/{wid}", json={"memo": "x"})
    assert patch.status_code == 422 and patch.json()["type_name"] == "InvalidStateError"
    unbalanced = call(apideck_server, "POST", "/accounting/journal-entries", json=je("N2", credit=49))
    assert unbalanced.status_code == 400 and unbalanced.json()["type_name"] == "ConnectorExecutionError"
    bad_status = call(apideck_server, "POST", "/accounting/journal-entries", json=je("N3", status="approved"))
    assert bad_status.status_code == 400
    unknown_field = call(apideck_server, "POST", "/accounting/journal-entries", json={**je("N4"), "reference": "x"})
    assert unknown_field.status_code == 400 and unknown_field.json()["type_name"] == "RequestValidationError"


def test_line_without_cost_centre_forces_draft_and_drafts_can_be_patched(apideck_server):
    wid = call(apideck_server, "POST", "/accounting/journal-entries", json=je("D1", worktags=False)).json()["data"]["id"]
    assert apideck_server.app.journal_entries[wid]["status"] == "draft"
    assert call(apideck_server, "PATCH", f"/accounting/journal-entries/{wid}", json={"memo": "fixed"}).status_code == 200
    assert call(apideck_server, "DELETE", f"/accounting/journal-entries/{wid}").status_code == 200
    assert wid not in apideck_server.app.journal_entries


def test_filters(apideck_server):
    call(apideck_server, "POST", "/accounting/journal-entries", json=je())
    number = call(apideck_server, "GET", "/accounting/journal-entries", params={"filter[number]": "N1"})
    assert number.status_code == 400 and number.json()["type_name"] == "UnsupportedFiltersError"
    since = call(apideck_server, "GET", "/accounting/journal-entries",
                 params={"filter[updated_since]": "2999-01-01T00:00:00.000Z"}).json()
    assert since["data"] == []


def test_workday_has_no_expense_list_or_delete(apideck_server):
    listed = call(apideck_server, "GET", "/accounting/expenses")
    assert listed.status_code == 501 and listed.json()["type_name"] == "ConnectorOperationUnsupportedError"
    body = {"number": "E1", "transaction_date": "2026-11-01T00:00:00.000Z", "account": {"id": AP}, "currency": "SAR",
            "line_items": [{"account": {"id": TRAVEL}, "total_amount": 20.5}]}
    created = call(apideck_server, "POST", "/accounting/expenses", json=body)
    assert created.status_code == 201
    wid = created.json()["data"]["id"]
    assert call(apideck_server, "GET", f"/accounting/expenses/{wid}").json()["data"]["total_amount"] == 20.5
    assert call(apideck_server, "DELETE", f"/accounting/expenses/{wid}").status_code == 501


def test_fault_switches_answer_in_apideck_shape(apideck_server):
    apideck_server.app.inject("rate_limit", count=1, method="GET", retry_after="2")
    limited = call(apideck_server, "GET", "/accounting/ledger-accounts")
    assert limited.status_code == 429 and limited.json()["type_name"] == "ConnectorRateLimitError"
    assert limited.headers["Retry-After"] == "2" and limited.headers["x-downstream-ratelimit-remaining"] == "0"
    apideck_server.app.inject("server_error", count=1, method="GET", status=503)
    failed = call(apideck_server, "GET", "/accounting/ledger-accounts")
    assert failed.status_code == 503 and failed.json()["downstream_errors"]
    apideck_server.app.rate_limit = {"per_second": 1, "retry_after": "1"}
    statuses = {call(apideck_server, "GET", "/accounting/ledger-accounts").status_code for _ in range(3)}
    assert 429 in statuses


def test_snapshot_survives_a_restart(apideck_server, tmp_path):
    call(apideck_server, "POST", "/accounting/journal-entries", json=je("S1"))
    path = str(tmp_path / "apd.json")
    apideck_server.app.save(path)
    again = ApideckSandbox(snapshot=path)
    assert [j["number"] for j in again.documents()] == ["S1"]
