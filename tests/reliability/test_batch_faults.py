"""Exactly once per document when many documents go in one vendor call (push many: Xledger's
multi-input `addGLImportItems`, Business Central's `$batch` with a group per document), through
the real intake, worker and batch services against each vendor's sandbox over loopback:

- a document the vendor refuses inside a batch goes to review alone; the others are exported;
- a lost answer to the batch puts every document in it to outcome_unknown, and one batched
  look-up (one request) settles them all without sending anything again;
- a 429 on the batch makes every document wait (no attempt spent), then each goes once;
- a worker killed while the vendor is committing the batch (real qcluster processes): after the
  leases expire, one look-up finds every document and none is sent twice.

Each record keeps its own attempt rows, idempotency key and call-log link (CallLogDocument).
"""

import threading
import uuid

import pytest
from django.db import connection as db_connection

from connectors.models import CallLog, CallLogDocument
from connectors.registry import vendor
from exports.models import ExportAttempt, ExportRecord, ReviewItem
from exports.services.sweeper import records_sweep
from exports.transitions import Status
from mappings.models import CategoryMapping

from .conftest import approved, deliver, drain, expense
from .test_workers_faults import broker, workers  # noqa: F401  (fixtures: real qcluster workers)
from .workers import wait_until

pytestmark = [
    pytest.mark.skipif(db_connection.vendor != "postgresql",
                       reason="row-locking claims and real workers are what is proven: PostgreSQL only (CI)"),
    pytest.mark.django_db(transaction=True)]

Outcome = ExportAttempt.Outcome
N = 8
BAD_ACCOUNT = {"xledger": "999999999", "business_central": "00000000-0000-0000-0000-00000000dead"}


@pytest.fixture(params=["xledger", "business_central"])
def system(request):
    return request.param


@pytest.fixture
def server(system):
    server = vendor(system).module("testkit").start_sandbox()
    server.httpd.RequestHandlerClass.disable_nagle_algorithm = True
    vendor(system).module("bench").PROFILE["prepare"](server)    # the company keeps its books in SAR
    yield server
    server.stop()


@pytest.fixture
def books(system, server, org):
    connection = vendor(system).module("testkit").connect(server, org)
    connection.settings = {**connection.settings, "rate_limit_per_second": 1000}
    connection.save(update_fields=["settings"])
    account = vendor(system).module("bench").PROFILE["travel_account"](server)
    for code in ("TRAVEL", "MEALS"):
        CategoryMapping.objects.create(connection=connection, category_code=code, account=account)
    return connection


def held(system, server, reference: str) -> int:
    return len(vendor(system).module("testkit").held(server, reference))


def refs(prefix: str, n: int = N) -> list[str]:
    return [f"EXPENSICO-{prefix}{i}-v1" for i in range(n)]


def send(org, prefix: str, n: int = N, **over) -> None:
    deliver(org, approved(*[expense(f"{prefix}{i}", amount=f"{20 + i}.50", **over) for i in range(n)],
                          rid=f"rpt_{prefix}"), f"msg_{prefix}_{uuid.uuid4().hex[:6]}")


def warm_up(org) -> None:
    """One export first, so what the vendor's metadata costs (pre-flight's cache) is paid."""
    send(org, "warm", 1)
    drain()


def writes(connection) -> list[CallLog]:
    """Our calls that carried documents (push many links each document's key to the call)."""
    return list(CallLog.objects.filter(connection=connection, documents__isnull=False).distinct())


def test_a_refused_document_inside_a_batch_goes_to_review_alone(system, server, org, books, monkeypatch):
    from exports.services import preflight

    monkeypatch.setattr(preflight, "record_preflight", lambda **kw: None)   # the vendor itself refuses
    CategoryMapping.objects.filter(connection=books, category_code="MEALS").update(account=BAD_ACCOUNT[system])
    deliver(org, approved(*[expense(f"p{i}", amount=f"{20 + i}.50", category="MEALS" if i in (2, 5) else "TRAVEL")
                            for i in range(N)], rid="rpt_p"), "msg_partial")
    drain()
    records = {r.source_id: r for r in ExportRecord.objects.all()}
    refused = {k for k, r in records.items() if r.status == Status.NEEDS_REVIEW}
    assert refused == {"p2", "p5"}
    assert all(r.status == Status.EXPORTED for k, r in records.items() if k not in refused)
    assert all(held(system, server, r.reference) == (0 if k in refused else 1) for k, r in records.items())
    items = ReviewItem.objects.filter(resolved_at__isnull=True)
    assert {i.record.source_id for i in items} == refused and {i.reason for i in items} == {ReviewItem.Reason.VALIDATION}
    first = writes(books)[-1] if system == "business_central" else min(writes(books), key=lambda c: c.pk)
    assert first.documents.count() == N, "the eight went in one call"
    for record in records.values():   # one attempt each, under its own key, linked to the call(s)
        assert record.export_attempts.count() == 1
        assert CallLogDocument.objects.filter(idempotency_key=str(record.idempotency_key)).exists()


def test_a_lost_batch_answer_is_settled_by_one_look_up(system, server, org, books):
    warm_up(org)
    server.app.inject("drop_after_commit", count=1, method="POST")
    send(org, "lost")                                # the doorbells push inline: one batch, answer lost
    records = ExportRecord.objects.filter(source_id__startswith="lost")
    assert {r.status for r in records} == {Status.OUTCOME_UNKNOWN} and all(r.needs_reconcile for r in records)
    assert all(held(system, server, ref) == 1 for ref in refs("lost")), "the vendor did commit them"
    before = CallLog.objects.filter(connection=books).count()
    assert drain() == {"exported": N}
    assert CallLog.objects.filter(connection=books).count() - before == 1, "one batched look-up, nothing re-sent"
    for record in records.all():
        outcomes = list(record.export_attempts.order_by("number").values_list("outcome", flat=True))
        assert record.status == Status.EXPORTED and outcomes == [Outcome.OUTCOME_UNKNOWN, Outcome.RECONCILED]
    assert all(held(system, server, ref) == 1 for ref in refs("lost"))


def test_a_429_on_the_batch_makes_each_wait_then_each_goes_once(system, server, org, books):
    warm_up(org)
    server.app.inject("rate_limit", count=20, method="POST", retry_after="1")
    send(org, "busy")
    records = ExportRecord.objects.filter(source_id__startswith="busy")
    assert {r.status for r in records} == {Status.RETRY} and all(r.attempts == 0 for r in records)
    assert all(held(system, server, ref) == 0 for ref in refs("busy"))
    server.app.clear_faults()
    assert drain() == {"exported": N}
    for record in records.all():
        outcomes = list(record.export_attempts.order_by("number").values_list("outcome", flat=True))
        assert outcomes == [Outcome.RATE_LIMITED, Outcome.EXPORTED] and record.attempts == 1
    assert all(held(system, server, ref) == 1 for ref in refs("busy"))


class HoldTheBatch:
    """The vendor commits the batch, then does not answer until released: the moment to kill."""

    def __init__(self, app, system):
        self.inner, self.system = app.handle, system
        self.committed, self.release = threading.Event(), threading.Event()
        self.writes = 0
        app.handle = self.handle

    def is_batch(self, req) -> bool:
        if self.system == "xledger":
            return b"addGLImportItems" in req.body
        return req.path.endswith("$batch") and b"atomicityGroup" in req.body

    def handle(self, req):
        resp = self.inner(req)
        if self.is_batch(req):
            self.writes += 1
            self.committed.set()
            self.release.wait(30)
        return resp


def test_a_worker_killed_mid_batch_leaves_each_document_once(system, server, org, books, workers):  # noqa: F811
    hold = HoldTheBatch(server.app, system)
    first = workers("a", processes=1)
    send(org, "kill")
    wait_until(hold.committed.is_set, timeout=90, interval=0.01, what="the batch reaching the vendor")
    first.kill()
    hold.release.set()
    assert all(held(system, server, ref) == 1 for ref in refs("kill"))
    assert ExportRecord.objects.filter(status=Status.EXPORTED).count() == 0
    workers("b", processes=1)

    def settled():
        records_sweep()
        return ExportRecord.objects.filter(status=Status.EXPORTED).count() == N

    wait_until(settled, timeout=120, interval=0.5, what="all exported after the restart")
    assert hold.writes == 1, "found by reference: the batch was never sent again"
    assert all(held(system, server, ref) == 1 for ref in refs("kill"))
    for record in ExportRecord.objects.all():
        outcomes = list(record.export_attempts.order_by("number").values_list("outcome", flat=True))
        assert outcomes == [Outcome.OUTCOME_UNKNOWN, Outcome.RECONCILED]
