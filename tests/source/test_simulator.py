from collections import Counter
from datetime import date
from decimal import Decimal

import requests

from expensico_sync.source.schemas import (
    FundingSerializer,
    ReimbursementSerializer,
    ReportSerializer,
    validate_event,
    validate_object,
)
from expensico_sync.source.simulator.generator import generate
from expensico_sync.source.simulator.server import serve_in_thread


def test_same_seed_same_data_other_seed_other_data():
    a, b = generate(seed=42, scale=30), generate(seed=42, scale=30)
    assert a == b
    assert generate(seed=43, scale=30).reports != a.reports


def test_statement_balances_agree_with_fundings_and_reimbursements():
    ds = generate(seed=7, scale=60)
    lines = ds.statement_lines
    balance = Decimal(0)
    for line in lines:
        balance += Decimal(line["amount"])
        assert Decimal(line["balance"]) == balance, line
        assert date.fromisoformat(line["date"])
    assert balance > 0
    by_ref = {line["bank_reference"]: Decimal(line["amount"]) for line in lines}
    for f in ds.fundings:
        signed = -Decimal(f["amount"]) if f["direction"] == "in" else Decimal(f["amount"])
        assert by_ref.pop(f["bank_reference"]) == signed
    for r in ds.reimbursements:
        assert by_ref.pop(r["bank_reference"]) == -Decimal(r["amount"])
        # The amount is what the reports' reimbursable expenses add up to in the report currency.
        total = Decimal(0)
        for rep in (x for x in ds.reports if x["id"] in r["report_ids"]):
            for e in rep["expenses"]:
                if e["funding_source"] == "reimbursable":
                    rate = Decimal(e["exchange_rate"] or 1)
                    total += (Decimal(e["amount"]) * rate).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
        assert total == Decimal(r["amount"])
    assert list(by_ref) == [lines[0]["bank_reference"]]  # only the opening deposit is left


def test_realistic_variety():
    ds = generate(seed=42, scale=80)
    expenses = [e for r in ds.reports for e in r["expenses"]]
    assert {e["type"] for e in expenses} == {"expense", "mileage", "per_diem", "driver_honorarium"}
    assert {e["funding_source"] for e in expenses} == {"card", "reimbursable"}
    currencies = {e["currency"] for e in expenses}
    assert {"SAR", "KWD"} <= currencies and len(currencies) >= 5
    assert any(e["currency"] in ("KWD", "BHD") and len(e["amount"].split(".")[1]) == 3 for e in expenses)
    taxed = [e["tax"] for e in expenses if e["tax"]]
    assert {t["inclusive"] for t in taxed} == {True, False}
    assert any(Decimal(e["amount"]) < 0 for e in expenses)  # refunds
    assert any(e["description_ar"] for e in expenses)
    assert any(not e["receipts"] for e in expenses if e["type"] == "expense")
    assert any(e["version"] == 2 for e in expenses)
    # Events are snapshots: the first approval of an edited expense still says version 1.
    sent = [(e["id"], e["version"]) for _, t, b in ds.events if t == "expense_report.approved"
            for e in b["data"]["report"]["expenses"]]
    edited = {i for i, v in sent if v == 2}
    assert edited and {(i, 1) for i in edited} <= set(sent)
    assert {f["direction"] for f in ds.fundings} == {"in", "out"}
    types = Counter(t for _, t, _ in ds.events)
    assert set(types) == {"expense_report.approved", "expense.cancelled", "card.funded", "card.unloaded",
                          "reimbursement.paid", "bank_statement.published"}
    approved_at = Counter(r["approved_at"] for r in ds.reports)
    assert max(approved_at.values()) > 1  # shared timestamps exist


def test_generated_objects_satisfy_the_contract():
    ds = generate(seed=3, scale=40)
    for _, _, body in ds.events:
        validate_event(body)
    for r in ds.reports:
        validate_object(ReportSerializer, r)
    for f in ds.fundings:
        validate_object(FundingSerializer, f)
    for r in ds.reimbursements:
        validate_object(ReimbursementSerializer, r)


def test_server_pages_with_keyset_cursor_and_serves_receipts():
    server = serve_in_thread(lambda url: generate(seed=5, scale=30, base_url=url), token="t")
    try:
        s = requests.Session()
        s.headers["Authorization"] = "Bearer t"
        assert requests.get(f"{server.base_url}/v1/categories").status_code == 401
        seen, cursor = [], None
        while True:
            params = {"limit": 4, "approved_from": "2026-01-01", "approved_to": "2026-12-31"}
            if cursor:
                params["cursor"] = cursor
            body = s.get(f"{server.base_url}/v1/expense-reports", params=params).json()
            seen += [r["id"] for r in body["data"]]
            cursor = body["next_cursor"]
            if not cursor:
                break
        ds = server.state.dataset
        assert sorted(seen) == sorted(r["id"] for r in ds.reports) and len(seen) == len(set(seen))
        receipt = next(rc for r in ds.reports for e in r["expenses"] for rc in e["receipts"])
        content = s.get(receipt["url"]).content
        import hashlib
        assert hashlib.sha256(content).hexdigest() == receipt["sha256"]
        assert s.get(f"{server.base_url}/v1/expense-reports/nope").status_code == 404
    finally:
        server.shutdown()
