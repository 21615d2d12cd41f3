"""The shared stack: breaker, rate limiter, retries only when idempotent, call log, redaction."""

from datetime import timedelta

import pytest
from django.utils import timezone

from connectors.errors import OutcomeUnknown, Transient
from connectors.http import (
    BREAKER_THRESHOLD,
    CircuitOpen,
    ClientRateLimited,
    rate_limit_acquire,
    redact,
    window_slot_acquire,
)
from connectors.models import CallLog, Connection, RateLimitSlot
from connectors.services import call_log_prune, connection_breaker_reset

pytestmark = pytest.mark.django_db


@pytest.fixture
def stack(wafeq_connection):
    from connectors.wafeq.client import WafeqClient
    return WafeqClient(wafeq_connection)


def test_breaker_opens_after_consecutive_failures_and_blocks_without_calling(stack, wafeq_server):
    wafeq_server.app.inject("server_error", count=100, path="/organization/")
    for _ in range(BREAKER_THRESHOLD):
        with pytest.raises(Transient):
            stack.call("GET", "/organization/")   # each call retries (stamina) until the breaker opens
        if Connection.objects.get(pk=stack.connection.pk).breaker_open:
            break
    conn = Connection.objects.get(pk=stack.connection.pk)
    assert conn.breaker_open and conn.consecutive_failures >= BREAKER_THRESHOLD
    seen = wafeq_server.app.requests_seen
    with pytest.raises(CircuitOpen) as exc:
        stack.call("GET", "/organization/")
    assert wafeq_server.app.requests_seen == seen, "an open breaker sends nothing"
    assert exc.value.retry_after > 0
    connection_breaker_reset(connection=conn)
    wafeq_server.app.clear_faults()
    assert stack.call("GET", "/organization/").status == 200


def test_success_resets_failure_count(stack, wafeq_server):
    wafeq_server.app.inject("server_error", count=1, path="/organization/")
    stack.call("GET", "/organization/")
    assert Connection.objects.get(pk=stack.connection.pk).consecutive_failures == 0


def test_post_without_idempotency_key_is_not_retried(stack, wafeq_server):
    wafeq_server.app.inject("server_error", count=1, path="/files/")
    with pytest.raises(Transient):
        stack.upload("r.pdf", b"%PDF", "application/pdf")
    assert CallLog.objects.filter(path="/files/").count() == 1


def test_reset_after_sending_a_write_is_outcome_unknown(stack, wafeq_server):
    wafeq_server.app.inject("reset", count=1, path="/files/")
    with pytest.raises(OutcomeUnknown):
        stack.upload("r.pdf", b"%PDF", "application/pdf")


def test_slow_write_times_out_as_outcome_unknown(wafeq_connection, wafeq_server):
    from connectors.wafeq.client import WafeqClient
    wafeq_connection.settings["read_timeout"] = 0.3
    client = WafeqClient(wafeq_connection)
    wafeq_server.app.inject("slow", count=1, path="/files/", seconds=1.0)
    with pytest.raises(OutcomeUnknown):
        client.upload("r.pdf", b"%PDF", "application/pdf")
    assert len(wafeq_server.app.documents("files")) == 1, "the vendor did commit it"


def _fresh(org, name):
    return Connection.objects.create(organization=org, system="wafeq", name=name, base_url="http://127.0.0.1:9/v1")


def _start_of_second():
    import time
    time.sleep(1 - (time.time() % 1) + 0.01)


def test_rate_limiter_caps_a_window(org):
    conn = _fresh(org, "limited")
    _start_of_second()
    for _ in range(3):
        rate_limit_acquire(conn, per_second=3, wait_max=0)
    with pytest.raises(ClientRateLimited):
        rate_limit_acquire(conn, per_second=3, wait_max=0)


def test_rate_limiter_counts_exactly(org):
    import time
    conn = _fresh(org, "shared")
    _start_of_second()
    window = int(time.time())
    got = 0
    for _ in range(8):
        try:
            rate_limit_acquire(conn, per_second=5, wait_max=0)
            got += 1
        except ClientRateLimited:
            pass
    if int(time.time()) == window:
        assert got == 5


def test_rate_limiter_waits_for_the_next_window(org):
    import time
    conn = _fresh(org, "waiting")
    _start_of_second()
    rate_limit_acquire(conn, per_second=1, wait_max=0)
    started = time.monotonic()
    rate_limit_acquire(conn, per_second=1, wait_max=2)
    assert 0.5 < time.monotonic() - started < 1.5


def test_call_log_rows_are_redacted_and_truncated(stack):
    stack.call("GET", "/organization/")
    row = CallLog.objects.filter(path="/organization/").latest("id")
    assert row.status == 200 and row.duration_ms >= 0
    assert len(row.response_body) <= 2000
    assert "Api-Key" not in row.request_body + row.response_body
    text = redact({"access_token": "abc", "nested": {"client_secret": "s", "amount": 5}, "code": "c"})
    assert "abc" not in text and '"s"' not in text and '"amount": 5' in text


def test_call_log_retention(wafeq_connection):
    old = CallLog.objects.create(connection=wafeq_connection, method="GET", path="/x/", status=200,
                                 created_at=timezone.now() - timedelta(days=40))
    assert call_log_prune(days=30) >= 1
    assert not CallLog.objects.filter(pk=old.pk).exists()


def test_connection_refused_is_transient(org):
    conn = Connection.objects.create(organization=org, system="wafeq", name="dead", base_url="http://127.0.0.1:9/v1",
                                     api_key="k")
    from connectors.wafeq.client import WafeqClient
    with pytest.raises(Transient) as exc:
        WafeqClient(conn).call("POST", "/expenses/", json_body={}, idempotency_key="k1")
    assert not isinstance(exc.value, OutcomeUnknown)


def test_call_log_retention_is_scheduled_daily():
    from django_q.models import Schedule
    schedule = Schedule.objects.get(name="connectors: prune vendor call log")
    assert schedule.schedule_type == Schedule.DAILY and schedule.func == "connectors.tasks.call_log_prune_task"


def test_window_slots_are_refused_past_the_limit_with_the_wait(org):
    conn = _fresh(org, "burst")
    for _ in range(3):
        window_slot_acquire(conn, limit=3, seconds=30, wait_max=0)
    with pytest.raises(ClientRateLimited) as exc:
        window_slot_acquire(conn, limit=3, seconds=30, wait_max=0)
    assert 0 < exc.value.retry_after <= 30


def test_a_window_slot_frees_when_the_oldest_leaves_the_window(org):
    conn = _fresh(org, "sliding")
    window_slot_acquire(conn, limit=1, seconds=0.3, wait_max=0)
    window_slot_acquire(conn, limit=1, seconds=0.3, wait_max=2)   # waits for the first to age out
    assert RateLimitSlot.objects.filter(connection=conn).count() == 1, "aged-out slots are pruned"


@pytest.mark.django_db(transaction=True)
def test_concurrent_takers_never_exceed_the_window_limit(org):
    """Eight threads race for five slots: the row lock makes the count exact (PostgreSQL; on SQLite
    the database serialises writers)."""
    import threading

    from django.db import connection as db_connection
    from django.db import connections

    if db_connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL (CI runs this)")
    conn = _fresh(org, "racing")
    got, barrier = [], threading.Barrier(8)

    def take():
        try:
            barrier.wait()
            window_slot_acquire(conn, limit=5, seconds=30, wait_max=0)
            got.append(1)
        except ClientRateLimited:
            pass
        finally:
            connections.close_all()

    threads = [threading.Thread(target=take) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(got) == 5
    assert RateLimitSlot.objects.filter(connection=conn).count() == 5
