"""T3, T4, T5, T8: real `qcluster` processes on the test's PostgreSQL database, killed, frozen and
raced. The sandbox runs in this process (a thread), reached by the workers over loopback.

The test plays the sweeper (every ~0.5 s instead of every minute): it expires lost leases and rings
the doorbell for due records, exactly what the scheduled `exports.sweep` does in production.

Every case runs on both brokers of the production shape. The ORM broker has delivery receipts: a
message a worker took but never acknowledged comes back after Q_RETRY. Redis has none: a killed or
frozen worker's messages are gone, and only the sweeper's next doorbell brings the record back.
"""

import itertools
import os
import time

import pytest
import redis

from exports.models import ExportAttempt, ExportRecord
from exports.services.sweeper import records_sweep
from exports.transitions import Status

from .conftest import approved, deliver, expense, live, postgres_only
from .workers import Worker, wait_until

pytestmark = [postgres_only, pytest.mark.django_db(transaction=True)]

LEASE = 3        # seconds a claim is held before the sweeper calls it lost
Q_TIMEOUT = 4    # django-q kills a task running longer than this …
Q_RETRY = 5      # … and re-delivers an unacknowledged one after this (timeout < retry)


_queues = itertools.count(1)


@pytest.fixture(params=["orm", "redis"])
def broker(request, monkeypatch):
    """Doorbells go through a real broker to the worker processes instead of running inline; answers
    the environment the workers need to use the same one."""
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", False)
    if request.param == "orm":
        yield {"Q_CLUSTER_NAME": "expensico", "REDIS_URL": ""}
        return
    url = os.environ.get("REDIS_TEST_URL")
    if not url:
        pytest.skip("REDIS_TEST_URL is not set (CI sets it): the Redis broker cases need a Redis server")
    # A queue of its own: parallel test processes share the Redis database, each with its own records.
    name = f"rel-{os.getpid()}-{next(_queues)}"
    for attribute, value in (("ORM", None), ("REDIS", url), ("PREFIX", name), ("CLUSTER_NAME", name)):
        monkeypatch.setattr(Conf, attribute, value)
    yield {"REDIS_URL": url, "Q_CLUSTER_NAME": name}
    server = redis.from_url(url)
    for key in server.scan_iter(f"django_q:{name}:*"):
        server.delete(key)


@pytest.fixture
def workers(broker, tmp_path):
    started: list[Worker] = []

    def start(name="w", processes=2):
        worker = Worker(name=name, workers=processes, timeout=Q_TIMEOUT, retry=Q_RETRY, log_dir=tmp_path,
                        extra_env={"EXPORTS_LEASE_SECONDS": str(LEASE), "EXPORTS_BACKOFF_BASE_SECONDS": "0.2",
                                   **broker})
        started.append(worker.start())
        return worker

    yield start
    for worker in started:
        worker.stop(timeout=3)


def sweep_until(predicate, *, timeout: float, what: str):
    def swept():
        records_sweep()
        return predicate()

    return wait_until(swept, timeout=timeout, interval=0.5, what=what)


def references(n: int) -> list[str]:
    return [f"EXPENSICO-exp_{i:03d}-v1" for i in range(n)]


def assert_exactly_once(sandbox, refs):
    docs = sandbox.app.documents("expenses")
    by_ref: dict[str, int] = {}
    for doc in docs:
        by_ref[doc["reference"]] = by_ref.get(doc["reference"], 0) + 1
    duplicates = {r: c for r, c in by_ref.items() if c > 1}
    missing = [r for r in refs if r not in by_ref]
    assert not duplicates and not missing, (duplicates, missing[:10])
    assert len(docs) == len(refs)
    external = dict(ExportRecord.objects.values_list("reference", "external_id"))
    assert all(external[d["reference"]] == d["id"] for d in docs)  # our rows point at the vendor's


@pytest.mark.parametrize("k", [1, 17, 50])
def test_t3_sigkill_after_k_pushes_in_a_batch_of_200(k, org, books, sandbox, workers):
    sandbox.app.latency_ms = 5  # a vendor that takes a moment, so kills land mid-flight
    first = workers("a")
    deliver(org, approved(*[expense(f"exp_{i:03d}", amount=f"{10 + i}.25") for i in range(200)]), f"msg_t3_{k}")
    wait_until(lambda: len(sandbox.app.documents("expenses")) >= k, timeout=60, interval=0.002,
               what=f"{k} pushes")
    first.kill()
    at_kill = len(sandbox.app.documents("expenses"))
    assert at_kill < 200, "the worker finished before it could be killed"
    workers("b")
    sweep_until(lambda: ExportRecord.objects.filter(status=Status.EXPORTED).count() == 200, timeout=120,
                what="all 200 exported after the restart")
    assert_exactly_once(sandbox, references(200))


def test_t4_sigstop_past_redelivery_then_sigcont_makes_one_remote_write(org, books, sandbox, workers):
    # The vendor commits, then takes 2 s to answer: the worker is frozen while its request is out.
    sandbox.app.inject("slow", count=1, method="POST", path="/expenses/", seconds=2)
    frozen = workers("frozen", processes=1)
    deliver(org, approved(expense("exp_000")), "msg_t4")
    wait_until(lambda: live(sandbox, "EXPENSICO-exp_000-v1"), timeout=30, interval=0.005, what="the push")
    frozen.pause()
    paused_at = time.monotonic()
    workers("other", processes=1)
    # Past the broker's re-delivery time and the lease: the other worker reconciles by reference.
    sweep_until(lambda: ExportRecord.objects.get().status == Status.EXPORTED, timeout=60, what="reconciled")
    time.sleep(max(0.0, Q_RETRY + 1 - (time.monotonic() - paused_at)))
    frozen.resume()
    time.sleep(3)  # the frozen worker wakes up holding a 201 for a record someone else settled
    record = ExportRecord.objects.get()
    assert record.status == Status.EXPORTED
    assert len(sandbox.recorder.creates()) == 1
    assert len(live(sandbox, "EXPENSICO-exp_000-v1")) == 1
    assert record.external_id == live(sandbox, "EXPENSICO-exp_000-v1")[0]["id"]
    assert record.export_attempts.filter(outcome=ExportAttempt.Outcome.RECONCILED).count() == 1


def test_t5_two_workers_race_the_same_records(org, books, sandbox, workers):
    from exports.services.doorbell import records_enqueue

    sandbox.app.latency_ms = 30
    deliver(org, approved(*[expense(f"exp_{i:03d}") for i in range(20)]), "msg_t5")  # one doorbell each
    ids = list(ExportRecord.objects.values_list("pk", flat=True))
    records_enqueue(record_ids=ids * 3)  # and three more each: four deliveries of every record, shared by two clusters
    workers("left")
    workers("right")
    wait_until(lambda: ExportRecord.objects.filter(status=Status.EXPORTED).count() == 20, timeout=60,
               what="20 exported")
    from django_q.models import Task

    wait_until(lambda: Task.objects.filter(func="exports.tasks.export_record").count() >= 80, timeout=30,
               what="every delivery processed")
    results = list(Task.objects.filter(func="exports.tasks.export_record").values_list("result", flat=True))
    assert results.count("exported") == 20 and results.count("not_claimed") == 60, results
    per_reference = sandbox.recorder.keys_by_reference()
    assert len(sandbox.recorder.creates()) == 20  # one POST per record reached the vendor
    assert set(per_reference) == set(references(20))
    assert_exactly_once(sandbox, references(20))


def test_t8_crash_after_the_vendor_succeeded_before_our_commit(org, books, sandbox, workers):
    sandbox.app.inject("slow", count=1, method="POST", path="/expenses/", seconds=3)
    doomed = workers("doomed", processes=1)
    deliver(org, approved(expense("exp_000")), "msg_t8")
    wait_until(lambda: live(sandbox, "EXPENSICO-exp_000-v1"), timeout=30, interval=0.005, what="the push")
    doomed.kill()  # the vendor holds the document; our row still says in_progress
    assert ExportRecord.objects.get().status == Status.IN_PROGRESS
    workers("replacement", processes=1)
    sweep_until(lambda: ExportRecord.objects.get().status == Status.EXPORTED, timeout=60, what="reconciled")
    record = ExportRecord.objects.get()
    outcomes = list(record.export_attempts.order_by("number").values_list("outcome", flat=True))
    assert outcomes == [ExportAttempt.Outcome.OUTCOME_UNKNOWN, ExportAttempt.Outcome.RECONCILED], outcomes
    assert len(sandbox.recorder.creates()) == 1
    assert record.external_id == live(sandbox, "EXPENSICO-exp_000-v1")[0]["id"]
