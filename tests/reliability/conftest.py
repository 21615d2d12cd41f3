"""Shared pieces of the exactly-once proofs: a Wafeq sandbox that records what it was sent, a live
organisation mapped onto it, signed webhook deliveries, and an in-process "drain" of due work.

Every assertion that matters is made on the sandbox (what the vendor holds), not on our rows.
"""

import copy
import itertools
import threading
from decimal import Decimal

import pytest
from django.db import connection as db_connection
from django.utils import timezone

from connectors.wafeq.sandbox import testkit
from exports.models import ExportRecord
from exports.transitions import CLAIMABLE, Status

postgres_only = pytest.mark.skipif(
    db_connection.vendor != "postgresql",
    reason="real qcluster workers share the test database, which needs PostgreSQL (CI runs these on it)")

_slugs = itertools.count(1)


class Recorder:
    """Wraps the sandbox's `handle` to see every request the vendor received (faulted or not)."""

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()
        self.writes: list[dict] = []
        self._inner = app.handle
        app.handle = self._handle

    def _handle(self, req):
        if req.method == "POST" and req.path.startswith("/v1/") and req.content_type == "application/json":
            try:
                body = req.json() or {}
            except ValueError:
                body = {}
            with self.lock:
                self.writes.append({"path": req.path, "key": req.header("x-wafeq-idempotency-key"),
                                    "reference": body.get("reference", "") if isinstance(body, dict) else ""})
        return self._inner(req)

    def creates(self, path_part: str = "/expenses/") -> list[dict]:
        with self.lock:
            return [w for w in self.writes if w["path"].endswith(path_part)]

    def keys_by_reference(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for w in self.creates():
            out.setdefault(w["reference"], set()).add(w["key"])
        return out


@pytest.fixture
def sandbox():
    server = testkit.make_server()
    # http.server sends headers and body separately; without TCP_NODELAY every exchange waits ~40 ms
    # for a delayed ACK on loopback.
    server.httpd.RequestHandlerClass.disable_nagle_algorithm = True
    server.start()
    server.recorder = Recorder(server.app)
    yield server
    server.stop()


@pytest.fixture
def org(db):
    from expensico_sync.core.services import organization_create

    return organization_create(slug=f"rel-{next(_slugs)}", name="Reliability Co", base_currency="SAR",
                               country="SA", mode="live")


def map_categories(connection, sandbox, codes=("TRAVEL", "MEALS")):
    from mappings.models import CategoryMapping

    account = testkit._expense_account(sandbox.app)
    for code in codes:
        CategoryMapping.objects.create(connection=connection, category_code=code, account=account)


@pytest.fixture
def books(org, sandbox):
    connection = testkit.connect(sandbox, org)
    # The client-side limiter must not be what a fault test measures.
    connection.settings = {**connection.settings, "rate_limit_per_second": 1000}
    connection.save(update_fields=["settings"])
    map_categories(connection, sandbox)
    return connection


# --- source events --------------------------------------------------------------------------

def expense(eid="exp_1", version=1, amount="115.00", category="TRAVEL", **over):
    data = {
        "id": eid, "version": version, "type": "expense", "date": "2026-11-02", "merchant": f"Careem {eid}",
        "description": "Taxi to client", "description_ar": None,
        "category": {"id": f"cat_{category.lower()}", "code": category, "name": category.title()},
        "funding_source": "reimbursable", "card": None, "amount": amount, "currency": "SAR",
        "exchange_rate": None, "tax": None, "dimensions": {}, "details": {}, "receipts": [], "custom_fields": {},
    }
    data.update(over)
    return data


def report(expenses, rid="rpt_1", employee=("emp_1", "Noura")):
    return {"id": rid, "number": f"R-{rid}", "title": "Trip",
            "employee": {"id": employee[0], "name": employee[1], "email": "n@example.com"},
            "approved_at": "2026-11-03T10:00:00Z", "approved_by": {"id": "mgr_1", "name": "Omar"},
            "currency": "SAR", "expenses": expenses}


def event(event_type, data):
    return {"type": event_type, "created_at": "2026-11-03T10:00:00Z", "data": copy.deepcopy(data)}


def approved(*expenses, rid="rpt_1"):
    return event("expense_report.approved", {"report": report(list(expenses), rid=rid)})


def cancelled(eid, version=1, rid="rpt_1"):
    return event("expense.cancelled", {"expense_id": eid, "report_id": rid, "version": version,
                                       "reason": "duplicate claim", "cancelled_at": "2026-11-04T09:00:00Z"})


def signed(org, body: dict, webhook_id: str) -> tuple[bytes, dict]:
    from expensico_sync.source.simulator.sender import encode, sign

    raw = encode(body)
    return raw.encode(), sign(secret=org.webhook_secret, webhook_id=webhook_id, body=raw)


def deliver(org, body: dict, webhook_id: str):
    """Through the real intake service (signature, delivery log, mirror, records) in-process."""
    from expensico_sync.source.intake import webhook_receive

    raw, headers = signed(org, body, webhook_id)
    return webhook_receive(organization=org, body=raw, headers=headers)


# --- work and the vendor's view -------------------------------------------------------------

def make_due() -> None:
    """Skips backoff waits: a test's clock is not the point."""
    ExportRecord.objects.filter(status__in=CLAIMABLE).update(next_attempt_at=timezone.now())


def drain(*, rounds: int = 20) -> dict:
    """In-process worker loop until nothing is due (bounded)."""
    from exports.services.worker import records_work_due

    total: dict[str, int] = {}
    for _ in range(rounds):
        make_due()
        counts = records_work_due(limit=500)
        if not counts:
            break
        for k, v in counts.items():
            total[k] = total.get(k, 0) + v
    return total


def live(sandbox, reference: str) -> list[dict]:
    return testkit.held(sandbox, reference)


def remote_total(sandbox) -> Decimal:
    return sum((Decimal(str(d["amount"])) for d in sandbox.app.documents("expenses")), Decimal("0"))


def statuses() -> dict[str, int]:
    out: dict[str, int] = {}
    for status in ExportRecord.objects.values_list("status", flat=True):
        out[status] = out.get(status, 0) + 1
    return out


def exported_count() -> int:
    return ExportRecord.objects.filter(status=Status.EXPORTED).count()
