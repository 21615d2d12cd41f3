"""Client-side limits shared by every worker: per-second windows, sliding burst windows and
places for requests in flight."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection as db_connection
from django.db import connections
from django.utils import timezone

from connectors.limits import ClientRateLimited, concurrency_slot, rate_limit_acquire, window_slot_acquire
from connectors.models import ConcurrencySlot, Connection, RateLimitSlot

pytestmark = pytest.mark.django_db


def _fresh(org, name):
    return Connection.objects.create(organization=org, system="wafeq", name=name, base_url="http://127.0.0.1:9/v1")


def _start_of_second():

    time.sleep(1 - (time.time() % 1) + 0.01)


def test_rate_limiter_caps_a_window(org):
    conn = _fresh(org, "limited")
    _start_of_second()
    for _ in range(3):
        rate_limit_acquire(conn, per_second=3, wait_max=0)
    with pytest.raises(ClientRateLimited):
        rate_limit_acquire(conn, per_second=3, wait_max=0)


def test_rate_limiter_counts_exactly(org):

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

    conn = _fresh(org, "waiting")
    _start_of_second()
    rate_limit_acquire(conn, per_second=1, wait_max=0)
    started = time.monotonic()
    rate_limit_acquire(conn, per_second=1, wait_max=2)
    assert 0.5 < time.monotonic() - started < 1.5


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


def test_concurrency_places_are_refused_past_the_limit_and_freed_on_exit(org):
    conn = _fresh(org, "inflight")
    with concurrency_slot(conn, limit=2, lease=60, wait_max=0) as first:
        with concurrency_slot(conn, limit=2, lease=60, wait_max=0) as second:
            assert {first, second} == {0, 1}
            with pytest.raises(ClientRateLimited):
                with concurrency_slot(conn, limit=2, lease=60, wait_max=0):
                    pass
        with concurrency_slot(conn, limit=2, lease=60, wait_max=0) as again:
            assert again == second, "the place left is taken again"
    assert not ConcurrencySlot.objects.filter(connection=conn).exclude(holder="").exists()


def test_a_place_held_by_a_dead_worker_frees_when_its_lease_ends(org):
    conn = _fresh(org, "dead-holder")
    holder = concurrency_slot(conn, limit=1, lease=0.2, wait_max=0)
    holder.__enter__()                       # a worker killed inside the block never exits it
    with pytest.raises(ClientRateLimited):
        with concurrency_slot(conn, limit=1, lease=60, wait_max=0):
            pass
    with concurrency_slot(conn, limit=1, lease=60, wait_max=2) as slot:
        assert slot == 0


def test_a_late_release_does_not_free_a_place_someone_else_took(org):
    conn = _fresh(org, "late-release")
    stale = concurrency_slot(conn, limit=1, lease=0.1, wait_max=0)
    stale.__enter__()
    time.sleep(0.15)
    with concurrency_slot(conn, limit=1, lease=60, wait_max=0):
        stale.__exit__(None, None, None)     # the old holder comes back after its lease ran out
        assert ConcurrencySlot.objects.get(connection=conn).holder != ""


@pytest.mark.django_db(transaction=True)
def test_concurrent_workers_never_hold_more_places_than_the_limit(org):
    """Eight threads, each with its own database connection, race for three places and hold
    them a moment: the number in flight never passes three (PostgreSQL; SQLite serialises writers)."""
    if db_connection.vendor != "postgresql":
        pytest.skip("concurrent conditional updates need PostgreSQL (CI runs this)")
    conn = _fresh(org, "racing-inflight")
    inside, peak, lock, barrier = [0], [0], threading.Lock(), threading.Barrier(8)

    def work():
        try:
            barrier.wait()
            for _ in range(3):
                with concurrency_slot(conn, limit=3, lease=60, wait_max=10):
                    with lock:
                        inside[0] += 1
                        peak[0] = max(peak[0], inside[0])
                    time.sleep(0.02)
                    with lock:
                        inside[0] -= 1
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert peak[0] == 3
    assert ConcurrencySlot.objects.filter(connection=conn).count() == 3


def test_a_full_window_queues_the_waiting_workers_for_the_next_ones_with_two_reads_each(org):
    # One place a second, taken: two more workers queue for the next windows, each reading the
    # counts once and taking a place in the first window with room (not polling every window).
    from django.test.utils import CaptureQueriesContext

    from connectors.models import RateLimitWindow

    conn = _fresh(org, "queued")
    _start_of_second()
    now = int(time.time())
    rate_limit_acquire(conn, per_second=1, wait_max=0)
    with CaptureQueriesContext(db_connection) as ctx:
        rate_limit_acquire(conn, per_second=1, wait_max=3)
        rate_limit_acquire(conn, per_second=1, wait_max=3)
    windows = dict(RateLimitWindow.objects.filter(connection=conn).values_list("window", "count"))
    assert all(count == 1 for count in windows.values())
    assert sorted(windows)[:3] == [now, now + 1, now + 2] or int(time.time()) > now + 3
    sent = [q["sql"] for q in ctx.captured_queries if "ratelimitwindow" in q["sql"].lower()]
    assert len(sent) <= 2 * 3 + 2, sent   # each: the full window, one read, one take (+ a tenth window's clean-up)


def test_windows_of_a_connection_that_never_calls_on_a_tenth_second_are_swept(org):
    """A job calling every 60 s at :07 never takes a window divisible by ten, so the inline
    clean-up never runs for it: without the scheduled sweep its rows would grow by one a call."""
    from connectors.limits import WINDOW_KEEP, rate_windows_sweep, window_taken
    from connectors.models import RateLimitWindow

    conn, busy = _fresh(org, "sparse"), _fresh(org, "busy")
    now = int(time.time()) // 10 * 10 + 7                     # ends in 7, and so does every call below
    calls = [now - 60 * n for n in range(51, 1, -1)]
    for window in calls:
        RateLimitWindow.objects.create(connection=conn, window=window, count=1)
        window_taken(conn.pk, window, 1)
    assert RateLimitWindow.objects.filter(connection=conn).count() == 50, "the inline clean-up never ran"
    RateLimitWindow.objects.create(connection=busy, window=now - 1, count=3)           # still read: kept
    RateLimitWindow.objects.create(connection=busy, window=now - WINDOW_KEEP - 1, count=3)
    slot_old = RateLimitSlot.objects.create(connection=conn, taken_at=timezone.now() - timedelta(hours=2))
    slot_new = RateLimitSlot.objects.create(connection=conn, taken_at=timezone.now())
    assert rate_windows_sweep(now=now, batch=7) == 50 + 1 + 1                          # in several batches
    assert list(RateLimitWindow.objects.values_list("connection", "window")) == [(busy.pk, now - 1)]
    assert list(RateLimitSlot.objects.values_list("pk", flat=True)) == [slot_new.pk] != [slot_old.pk]
    assert rate_windows_sweep(now=now) == 0


def test_a_large_backlog_is_swept_over_several_bounded_runs(org):
    from connectors.limits import rate_windows_sweep
    from connectors.models import RateLimitWindow

    conn = _fresh(org, "backlog")
    RateLimitWindow.objects.bulk_create(RateLimitWindow(connection=conn, window=w, count=1) for w in range(1, 31))
    assert rate_windows_sweep(now=10_000, batch=5, batches=2) == 10
    assert rate_windows_sweep(now=10_000, batch=5, batches=10) == 20


def test_the_sweep_is_scheduled_every_few_minutes():
    from django_q.models import Schedule

    from connectors.receivers import RATE_WINDOWS_SWEEP, ensure_schedules

    ensure_schedules(sender=None)           # as after migrate (a transactional test may have flushed it)
    schedule = Schedule.objects.get(name=RATE_WINDOWS_SWEEP)
    assert schedule.func == "connectors.tasks.rate_windows_sweep_task"
    assert schedule.schedule_type == Schedule.MINUTES and schedule.minutes <= 10 and schedule.repeats == -1
