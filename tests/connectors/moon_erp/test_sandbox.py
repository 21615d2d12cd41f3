"""The Moon ERP sandbox over real HTTP: the contract's rules, not the connector's use of them."""

from decimal import Decimal

import pytest
import requests

from connectors.moon_erp.sandbox.server import CLERK_TOKEN, FULL_TOKEN, OTHER_COMPANY_TOKEN, make_server

API = "/api/accounting/expenses"


@pytest.fixture
def server():
    srv = make_server(throttle_per_minute=None).start()
    yield srv
    srv.stop()


def call(server, method, path, token=FULL_TOKEN, **kw):
    headers = {"Accept": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    return requests.request(method, server.base_url + path, headers=headers, timeout=5, **kw)


def body(**over):
    return {"date": "2026-02-23", "expense_category_id": 1, "description": "Monthly office rent",
            "description_ar": "إيجار المكتب الشهري", "amount": "1500.000", "payment_method": "bank_transfer",
            "paying_account_id": 2, "bank_account_id": 1, "tax_rate_id": 3, "cost_center_id": 2, "partner_id": 1,
            "branch_id": 1, "notes": "February 2026 rent", **over}


def create(server, token=FULL_TOKEN, **over):
    resp = call(server, "POST", API, token, json=body(**over))
    assert resp.status_code == 201, resp.text
    return resp.json()["data"]


def test_create_is_a_draft_with_tax_number_and_embedded_objects(server):
    row = create(server)
    assert row["document_number"] == "EXP-2026-0001" and row["status"] == "draft" and row["status_label"] == "Draft"
    assert (row["amount"], row["tax_amount"], row["total_amount"]) == ("1500.000", "75.000", "1575.000")
    assert row["expense_category"] == {"id": 1, "code": "EXP-RENT", "name": "Office Rent", "name_ar": "إيجار المكتب"}
    assert row["tax_rate"] == {"id": 3, "name": "VAT 5%", "rate": "5.0000"}
    assert row["paying_account"]["code"] == "1201001" and row["partner"]["name"] == "Al Salam Real Estate"
    assert row["payment_method_label"] == "Bank Transfer" and row["journal_entry_id"] is None


def test_numbering_is_per_company_and_year_and_deleted_numbers_are_not_reused(server):
    first = create(server)
    assert call(server, "DELETE", f"{API}/{first['id']}").status_code == 200
    assert create(server)["document_number"] == "EXP-2026-0002"
    assert create(server, date="2025-12-31")["document_number"] == "EXP-2025-0001"
    other = create(server, OTHER_COMPANY_TOKEN, expense_category_id=6, paying_account_id=13, tax_rate_id=None,
                   cost_center_id=None, partner_id=None, branch_id=None, bank_account_id=None, payment_method="cash")
    assert other["document_number"] == "EXP-2026-0001"


def test_update_recalculates_tax_and_only_drafts_change(server):
    row = create(server)
    updated = call(server, "PUT", f"{API}/{row['id']}", json={"amount": "200.000"}).json()["data"]
    assert (updated["tax_amount"], updated["total_amount"]) == ("10.000", "210.000")
    updated = call(server, "PUT", f"{API}/{row['id']}", json={"tax_rate_id": 1}).json()["data"]
    assert (updated["tax_amount"], updated["total_amount"]) == ("30.000", "230.000")
    assert call(server, "POST", f"{API}/{row['id']}/approve").status_code == 200
    for method in ("PUT", "DELETE"):
        resp = call(server, method, f"{API}/{row['id']}", json={"amount": "1.000"})
        assert resp.status_code == 422 and "status" in resp.json()["errors"]


def test_approve_posts_a_balanced_journal_and_cancel_its_mirror(server):
    row = create(server)
    approved = call(server, "POST", f"{API}/{row['id']}/approve").json()["data"]
    assert approved["status"] == "approved" and approved["journal_entry_id"] and approved["approved_by"] == 1
    assert set(approved) == {"id", "document_number", "status", "status_label", "journal_entry_id", "approved_by",
                             "approved_at"}
    journal = call(server, "GET", f"/api/accounting/journal-entries/{approved['journal_entry_id']}").json()["data"]
    assert [(ln["account_id"], ln["debit"], ln["credit"]) for ln in journal["lines"]] == [
        (8, "1500.000", "0.000"), (5, "75.000", "0.000"), (2, "0.000", "1575.000")]
    assert call(server, "POST", f"{API}/{row['id']}/approve").status_code == 422   # approving twice
    assert call(server, "POST", f"{API}/{row['id']}/cancel").json()["data"]["status"] == "cancelled"
    assert call(server, "POST", f"{API}/{row['id']}/cancel").status_code == 422    # cancelling twice
    balances = server.app.store.balances(1)
    assert balances and all(v == 0 for v in balances.values())
    journals = server.app.ledger()["journal_entries"]
    assert journals[1]["reversal_of"] == journals[0]["id"] and journals[0]["reversed_by"] == journals[1]["id"]


def test_cancelling_a_draft_is_a_state_violation(server):
    row = create(server)
    resp = call(server, "POST", f"{API}/{row['id']}/cancel")
    assert resp.status_code == 422 and resp.json() == {"message": "Only approved expenses can be cancelled.",
                                                       "errors": {"status": ["Only approved expenses can be cancelled."]}}


def test_soft_delete_hides_but_keeps(server):
    row = create(server)
    call(server, "DELETE", f"{API}/{row['id']}")
    assert call(server, "GET", f"{API}/{row['id']}").status_code == 404
    assert call(server, "GET", API).json()["meta"]["total"] == 0
    assert server.app.ledger()["expenses"][0]["deleted_at"]


def test_validation_is_laravel_422(server):
    resp = call(server, "POST", API, json={"amount": "-1", "payment_method": "check", "expense_category_id": 5})
    data = resp.json()
    assert resp.status_code == 422
    assert data["errors"]["date"] == ["The date field is required."]
    assert data["errors"]["expense_category_id"] == ["The selected expense category id is invalid."]  # income type
    assert data["errors"]["amount"] == ["The amount field must be greater than 0."]
    assert data["errors"]["bank_account_id"] == ["The bank account id field is required when payment method is check."]
    more = sum(len(v) for v in data["errors"].values()) - 1
    assert data["message"] == f"The date field is required. (and {more} more errors)"
    resp = call(server, "POST", API, json=body(amount="1.0001"))
    assert resp.json()["errors"] == {"amount": ["The amount field must have 0-3 decimal places."]}


def test_auth_permissions_and_company_scope(server):
    assert call(server, "GET", API, token=None).json() == {"message": "Unauthenticated."}
    assert call(server, "GET", API, token="nope").status_code == 401
    row = create(server, CLERK_TOKEN)
    resp = call(server, "POST", f"{API}/{row['id']}/approve", CLERK_TOKEN)
    assert resp.status_code == 403 and resp.json() == {"message": "This action is unauthorized."}
    assert call(server, "GET", f"{API}/{row['id']}", OTHER_COMPANY_TOKEN).status_code == 404
    assert call(server, "GET", API, OTHER_COMPANY_TOKEN).json()["data"] == []
    # A company-1 category is not valid for company 2.
    resp = call(server, "POST", API, OTHER_COMPANY_TOKEN, json=body(bank_account_id=None, payment_method="cash"))
    assert "expense_category_id" in resp.json()["errors"]


def test_pagination_and_filters(server):
    for day in range(1, 31):
        create(server, date=f"2026-03-{day:02d}")
    page = call(server, "GET", API).json()
    assert len(page["data"]) == 25 and page["meta"] == {**page["meta"], "current_page": 1, "last_page": 2,
                                                        "per_page": 25, "total": 30}
    second = requests.get(page["links"]["next"], headers={"Authorization": f"Bearer {FULL_TOKEN}"}, timeout=5).json()
    assert len(second["data"]) == 5 and second["links"]["next"] is None
    ranged = call(server, "GET", API, params={"date_from": "2026-03-10", "date_to": "2026-03-12"}).json()
    assert [r["date"] for r in ranged["data"]] == ["2026-03-10", "2026-03-11", "2026-03-12"]
    assert call(server, "GET", API, params={"status": "approved"}).json()["meta"]["total"] == 0
    resp = requests.get(server.base_url + API, headers={"Authorization": f"Bearer {FULL_TOKEN}",
                                                        "Accept-Language": "ar"}, timeout=5)
    assert resp.json()["data"][0]["expense_category"]["name"] == "إيجار المكتب"


def test_inferred_throttle_answers_429_with_retry_after():
    srv = make_server(throttle_per_minute=2).start()
    try:
        statuses = [call(srv, "GET", API) for _ in range(3)]
        assert [r.status_code for r in statuses] == [200, 200, 429]
        assert statuses[2].json() == {"message": "Too Many Attempts."}
        assert 1 <= int(statuses[2].headers["Retry-After"]) <= 60
    finally:
        srv.stop()


def test_amounts_never_pass_through_float(server):
    row = create(server, amount="0.100", tax_rate_id=1)
    assert Decimal(row["tax_amount"]) == Decimal("0.015") and row["total_amount"] == "0.115"


def test_snapshot_round_trip_keeps_books_and_sequences(server, tmp_path):
    row = create(server)
    call(server, "POST", f"{API}/{row['id']}/approve")
    path = tmp_path / "moon.json"
    server.app.save(str(path))
    again = make_server(snapshot=str(path), throttle_per_minute=None).start()
    try:
        assert call(again, "GET", f"{API}/{row['id']}").json()["data"]["status"] == "approved"
        assert create(again)["document_number"] == "EXP-2026-0002"
        assert len(again.app.ledger()["journal_entries"]) == 1
    finally:
        again.stop()


def test_control_endpoint_faults_and_moon_settings(server):
    assert requests.post(server.base_url + "/__sandbox__/faults", json={"kind": "server_error", "count": 1,
                                                                          "method": "POST"}, timeout=5).status_code == 201
    assert call(server, "POST", API, json=body()).status_code == 503
    assert call(server, "POST", API, json=body()).status_code == 201
    requests.post(server.base_url + "/__sandbox__/settings", json={"strict_paying_account": True,
                                                                   "throttle_per_minute": None}, timeout=5)
    resp = call(server, "POST", API, json=body(paying_account_id=4))     # a payable, not cash or bank
    assert resp.json()["errors"] == {"paying_account_id": ["The selected paying account id is invalid."]}
    state = requests.get(server.base_url + "/__sandbox__/", timeout=5).json()
    assert len(state["ledger"]["expenses"]) == 1


def test_fault_switches_answer_the_laravel_way(server):
    server.app.inject("rate_limit", count=1, retry_after="7")
    server.app.inject("server_error", count=1, status=500)
    limited = call(server, "GET", API)
    assert (limited.status_code, limited.json(), limited.headers["Retry-After"]) == (
        429, {"message": "Too Many Attempts."}, "7")
    failed = call(server, "POST", API, json=body())
    assert (failed.status_code, failed.json()) == (500, {"message": "Server Error"})
    assert "Retry-After" not in failed.headers and server.app.ledger()["expenses"] == []
    server.app.inject("server_error", count=1, retry_after="3")
    unavailable = call(server, "GET", API)
    assert (unavailable.status_code, unavailable.json(), unavailable.headers["Retry-After"]) == (
        503, {"message": "Service Unavailable"}, "3")
