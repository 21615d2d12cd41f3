"""The shared stack: breaker, rate limiter, retries only when idempotent, call log, redaction."""

from datetime import timedelta

import pytest
from django.utils import timezone

from connectors.bodies import redact
from connectors.breaker import BREAKER_THRESHOLD, CircuitOpen
from connectors.errors import OutcomeUnknown, Transient
from connectors.models import CallLog, Connection
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


def test_default_retention_outlives_a_calendar_month(wafeq_connection):
    """Monthly request counts (Xledger's billing) read the call log: a 31-day month must survive."""
    kept = CallLog.objects.create(connection=wafeq_connection, method="GET", path="/x/", status=200,
                                  created_at=timezone.now() - timedelta(days=32))
    call_log_prune()
    assert CallLog.objects.filter(pk=kept.pk).exists()
